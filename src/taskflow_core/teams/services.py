"""Every write to teams: creating one, adding and removing members, changing their role. Each
membership change emits a `team.member_*` event to the team's members and the affected user."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from taskflow_core.accounts.models import User
from taskflow_core.events.services import event_emit
from taskflow_core.teams.models import ADDABLE_ROLES, MANAGING_ROLES, Membership, Role, Team
from taskflow_core.teams.serializers import member_payload


def membership_role(*, team: Team, user: User) -> str | None:
    return Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()


def team_member_hold(*, team_id: int, user_id: int) -> User | None:
    """The member's user row, or None when they are not a member of the team (or do not
    exist); if found, the membership cannot be deleted until the caller's transaction ends.

    This is what keeps a task from being assigned to someone who is being removed
    (docs/architecture.md, "Concurrency"): the assignment holds the membership row with
    FOR KEY SHARE, which a removal's FOR UPDATE waits for (and other assignments do not). Called
    inside the caller's transaction, before it locks any task row: removal locks the membership
    and then the tasks, so both take their locks in the same order. One statement reads the
    user as well: an assignment needs both (the user for their notification preferences).
    """
    users = User._meta.db_table
    memberships = Membership._meta.db_table
    found = User.objects.raw(
        f"SELECT u.* FROM {users} u JOIN {memberships} m ON m.user_id = u.id"  # noqa: S608
        " WHERE m.team_id = %s AND m.user_id = %s FOR KEY SHARE OF m",
        [team_id, user_id],
    )
    return next(iter(found), None)


@transaction.atomic
def team_create(*, name: str, creator: User) -> Team:
    team = Team(name=name)
    team.full_clean()
    team.save()
    Membership.objects.create(team=team, user=creator, role=Role.OWNER)
    return team


@transaction.atomic
def team_member_add(
    *, team: Team, actor: User, username: str, role: str = Role.MEMBER
) -> Membership:
    if membership_role(team=team, user=actor) not in MANAGING_ROLES:
        raise PermissionDenied("Only the team's owner or an admin can add members.")
    if role not in ADDABLE_ROLES:
        raise ValidationError({"role": [f'"{role}" is not a valid choice: admin or member.']})
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": ["No user with this username."]})
    already_member = ValidationError({"username": ["This user is already a member of the team."]})
    if Membership.objects.filter(team=team, user=user).exists():
        raise already_member
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=team, user=user, role=role)
    except IntegrityError as exc:
        # Someone added the same user between our check and the insert.
        raise already_member from exc
    _member_event("team.member_added", membership=membership, actor=actor)
    return membership


def _member_event(
    name: str, *, membership: Membership, actor: User, data: dict[str, object] | None = None
) -> None:
    """To the team's members at this moment and the affected user (who, once removed, is in
    no later event's recipients: they hear nothing more from the team, live or replayed)."""
    event_emit(
        name=name,
        team_id=membership.team_id,
        actor=actor,
        data={"member": member_payload(membership), **(data or {})},
        recipients=[
            *Membership.objects.filter(team_id=membership.team_id).values_list(
                "user_id", flat=True
            ),
            membership.user_id,
        ],
    )


@transaction.atomic
def team_member_remove(*, team: Team, actor: User, user_id: int) -> None:
    """Take a member out of the team (an owner/admin, or the member themself; never the owner).
    Their tasks are the tasks app's business: `tasks.services.task_team_member_remove`."""
    membership = Membership.objects.select_for_update().filter(team=team, user_id=user_id).first()
    if membership is None:
        raise Http404("This user is not a member of the team.")
    actor_role = membership_role(team=team, user=actor)
    removing_self = actor.pk == user_id
    if not removing_self and actor_role not in MANAGING_ROLES:
        raise PermissionDenied("Only the team's owner or an admin can remove other members.")
    if membership.role == Role.OWNER:
        # A team always keeps its owner; nobody, the owner included, may take them out.
        if not removing_self:
            raise PermissionDenied("The team's owner cannot be removed.")
        raise PermissionDenied("The owner cannot leave the team they own.")
    _member_event("team.member_removed", membership=membership, actor=actor)
    membership.delete()


@transaction.atomic
def team_member_role_change(*, team: Team, actor: User, user_id: int, role: str) -> Membership:
    """The owner or an admin makes a member an admin or an admin a member; the owner's role
    is not for changing (a team has exactly one owner, its creator)."""
    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(team=team, user_id=user_id)
        .first()
    )
    if membership is None:
        raise Http404("This user is not a member of the team.")
    if membership_role(team=team, user=actor) not in MANAGING_ROLES:
        raise PermissionDenied("Only the team's owner or an admin can change roles.")
    if membership.role == Role.OWNER:
        raise PermissionDenied("The team owner's role cannot be changed.")
    if role not in ADDABLE_ROLES:
        raise ValidationError({"role": [f'"{role}" is not a valid choice: admin or member.']})
    if membership.role == role:
        return membership
    previous = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    _member_event(
        "team.member_role_changed",
        membership=membership,
        actor=actor,
        data={"previous_role": previous},
    )
    return membership
