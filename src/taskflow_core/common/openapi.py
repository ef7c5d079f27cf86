"""Documented error responses for `extend_schema`: every endpoint describes the one error shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorDetail = inline_serializer(
    "ErrorDetail",
    {
        "detail": serializers.CharField(),
        "code": serializers.CharField(required=False),
    },
)

# `{"field": ["message", ...]}`, `non_field_errors` for whole-body problems, `detail` (a string)
# when the body is not JSON at all.
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]
    },
    "example": {"field": ["This field is required."]},
}

_DESCRIPTIONS = {
    400: "Invalid input: each offending field is named with its messages "
    '(`{"field": ["message"]}`); malformed JSON gives `{"detail": "JSON parse error ..."}`.',
    401: "No access token, or it is invalid, expired or not an access token.",
    403: "The resource is there, but your role does not allow this action.",
    404: "Not found, or not visible to you (e.g. a team you are not a member of).",
    412: "`If-Match` names a version that is no longer current; fetch the resource again.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """`responses={200: ..., **error_responses(400, 401, 404)}`."""
    responses: dict[int, OpenApiResponse] = {}
    for code in codes:
        body: Any = VALIDATION_ERROR_SCHEMA if code == 400 else ErrorDetail
        responses[code] = OpenApiResponse(response=body, description=_DESCRIPTIONS[code])
    return responses
