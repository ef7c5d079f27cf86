"""Every write to teams: creating one, adding and removing members."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import MANAGING_ROLES, Membership, Role, Team


def membership_role(*, team: Team, user: User) -> str | None:
    return Membership.objects.filter(team=team, user=user).values_list("role", flat=True).first()


@transaction.atomic
def team_create(*, name: str, creator: User) -> Team:
    team = Team.objects.create(name=name)
    Membership.objects.create(team=team, user=creator, role=Role.OWNER)
    return team


@transaction.atomic
def team_member_add(
    *, team: Team, actor: User, username: str, role: str = Role.MEMBER
) -> Membership:
    if membership_role(team=team, user=actor) not in MANAGING_ROLES:
        raise PermissionDenied("Only the team's owner or an admin can add members.")
    if role not in (Role.ADMIN, Role.MEMBER):
        raise ValidationError({"role": [f'"{role}" is not a valid choice: admin or member.']})
    user = User.objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": ["No user with this username."]})
    already_member = ValidationError({"username": ["This user is already a member of the team."]})
    if Membership.objects.filter(team=team, user=user).exists():
        raise already_member
    try:
        with transaction.atomic():
            return Membership.objects.create(team=team, user=user, role=role)
    except IntegrityError as exc:
        # Someone added the same user between our check and the insert.
        raise already_member from exc


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
    membership.delete()
