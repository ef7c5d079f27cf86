"""Reads of teams, always from one user's point of view: a team you are not in does not exist."""

from __future__ import annotations

from django.db import connection
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.http import Http404

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Membership, Role, Team


def team_list_for_user(*, user: User) -> QuerySet[Team]:
    """The user's teams, each annotated with `my_role`, by name."""
    my_role = Membership.objects.filter(team=OuterRef("pk"), user=user).values("role")[:1]
    return (
        Team.objects.filter(memberships__user=user)
        .annotate(my_role=Subquery(my_role))
        .order_by("name", "pk")
    )


def team_get_for_user(*, user: User, team_id: int) -> Team:
    """The team (with `my_role`), or `Http404` when it does not exist or the user is not in it."""
    team = team_list_for_user(user=user).filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team.")
    return team


def team_member_list(*, team: Team) -> QuerySet[Membership]:
    """Owner first, then admins, then members, each by username."""
    rank = Case(
        When(role=Role.OWNER, then=Value(0)),
        When(role=Role.ADMIN, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return (
        Membership.objects.filter(team=team)
        .select_related("user")
        .annotate(role_rank=rank)
        .order_by("role_rank", "user__username", "pk")
    )


# Model metadata only (column and table names), never input.
_MEMBER_IDS_SQL = "SELECT {user} FROM {table} WHERE {team} = %s".format(  # noqa: S608
    user=Membership._meta.get_field("user").column,
    table=Membership._meta.db_table,
    team=Membership._meta.get_field("team").column,
)


def team_member_ids(*, team_id: int) -> list[int]:
    """Everyone in the team: the recipients of its task events.

    Plain SQL: it runs on every write (the create's membership check and recipients), and
    building the ORM query cost four times the query's own round trip (bench/NOTES.md, "P2")."""
    with connection.cursor() as cursor:
        cursor.execute(_MEMBER_IDS_SQL, [team_id])
        return [user_id for (user_id,) in cursor.fetchall()]
