"""OpenAPI descriptions of the task endpoints' query parameters and headers."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from taskflow_core.tasks.filters import ORDERING_FIELDS
from taskflow_core.tasks.models import Priority, Status

_ORDERINGS = [name for field in ORDERING_FIELDS for name in (field, f"-{field}")]

TASK_LIST_PARAMETERS = [
    OpenApiParameter("team", OpenApiTypes.INT, description="Only tasks of this team."),
    OpenApiParameter("status", OpenApiTypes.STR, enum=Status.values),
    OpenApiParameter(
        "assignee",
        OpenApiTypes.STR,
        description="A user id, `me` (the caller) or `none` (unassigned tasks).",
    ),
    OpenApiParameter("priority", OpenApiTypes.STR, enum=Priority.values),
    OpenApiParameter(
        "due_before",
        OpenApiTypes.DATETIME,
        description="Tasks due at or before this time (ISO 8601; no offset means UTC).",
    ),
    OpenApiParameter(
        "due_after",
        OpenApiTypes.DATETIME,
        description="Tasks due at or after this time (ISO 8601; no offset means UTC).",
    ),
    OpenApiParameter(
        "overdue",
        OpenApiTypes.STR,
        enum=["true", "false"],
        description="`true`: past their deadline and neither done nor cancelled; "
        "`false`: every other task.",
    ),
    OpenApiParameter(
        "search", OpenApiTypes.STR, description="Case-insensitive text in title or description."
    ),
    OpenApiParameter(
        "ordering",
        {"type": "array", "items": {"type": "string", "enum": _ORDERINGS}},
        style="form",
        explode=False,
        description="Sort key, `-` for descending; several may be given comma-separated. "
        "`priority` sorts low < medium < high < urgent; tasks without `due_at` come last. "
        "Default: newest first.",
    ),
]

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='Apply the change only if the task is still at this version: `"3"` (as in '
    'the ETag), `W/"3"` or `3`. A stale version gives 412; omit it to update unconditionally.',
)


IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The `ETag` of your last read: 304 with no body while nothing it shows has "
    "changed (weak comparison; several tags or `*` allowed). See docs/api.md, "
    '"Conditional requests".',
)

NOT_MODIFIED = OpenApiResponse(
    description="Not modified: nothing changed since the `ETag` sent in `If-None-Match` "
    "(which the response carries again). No body."
)

LIST_ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 304],
    description="An opaque tag of this list for you (who asks, every query parameter and the "
    "changes to the tasks of the teams it covers); send it back in `If-None-Match`. Absent "
    "when the list is filtered with `overdue`, which changes with the time.",
)


def etag_header(code: int, *, conditional: bool = False) -> OpenApiParameter:
    """The `ETag` response header of a successful (`code`) task response (and of its 304)."""
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[code, 304] if conditional else [code],
        description='The task\'s version as an entity tag, e.g. `"3"`; send it back in `If-Match`.',
    )
