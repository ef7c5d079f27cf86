"""Conditional reads of tasks: `If-None-Match` → 304 when nothing changed (docs/api.md,
"Conditional requests").

A task's entity tag is its version (`"3"`), the one `If-Match` takes. A list's is a digest of
who asks, what they ask (every query parameter) and the clock of each of their teams
(`TeamTaskClock`, ticked by every write to the team's tasks in the writing transaction): any
change to a task they could list, joining or leaving a team, or another page or filter gives
another tag. It is read BEFORE the tasks, so a 200's tag is never newer than its body (a write
in between costs the client one more 200 later, never a stale 304). `overdue` depends on the
time as well, so such lists get no tag.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils.crypto import salted_hmac
from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.response import Response

from taskflow_core.accounts.models import User
from taskflow_core.tasks.selectors import team_task_clocks

TIME_DEPENDENT_PARAMETERS = ("overdue",)
_SALT = "taskflow_core.tasks.conditional.task_list_etag"


def task_list_clocks(*, user: User, params: QueryDict) -> list[tuple[int, int]] | None:
    """What a list's tag is made of: (team, clock) for each of the user's teams, or only the
    team the list is narrowed to (none, if it is not theirs); None when the list gets no tag
    (time-dependent, or an invalid `team`: a 400)."""
    if any(name in params for name in TIME_DEPENDENT_PARAMETERS):
        return None
    # A list narrowed to one team (validated by then) depends on that team's clock alone.
    team = params.get("team") or None
    if team is not None and not (team.isascii() and team.isdigit() and len(team) <= 18):
        return None
    return team_task_clocks(user=user, team_id=int(team) if team else None)


def task_list_etag(*, user: User, params: QueryDict, clocks: list[tuple[int, int]]) -> str:
    """The list's entity tag for `user`, these query parameters and `task_list_clocks`."""
    query = sorted(params.lists())
    # Keyed, so that only the server makes tags: one that matches was issued with a 200 for
    # these very parameters, which were therefore valid (the 304 skips validating them).
    digest = salted_hmac(_SALT, repr((user.pk, clocks, query)), algorithm="sha256")
    return f'"l{digest.hexdigest()[:32]}"'


def none_match(if_none_match: str | None, etag: str, *, star: bool = True) -> bool:
    """Whether `If-None-Match` names `etag` (weak comparison, as RFC 9110 asks for GET);
    `star`: whether `*` (any current representation) counts."""
    if not if_none_match:
        return False
    tags = parse_etags(if_none_match)
    if star and "*" in tags:
        return True
    return etag.removeprefix("W/") in {tag.removeprefix("W/") for tag in tags}


def not_modified(etag: str) -> Response:
    return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
