"""Documented error responses for `extend_schema`: every endpoint describes the one error shape.

The schemas say exactly which fields an error body may hold; tests/common/test_error_schema.py
validates real responses against them, unknown fields included."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

# 403, 404, 412, 405 and other refusals: DRF's `{"detail": "..."}` and nothing else.
ErrorDetail = inline_serializer("ErrorDetail", {"detail": serializers.CharField()})

# A 401 on an endpoint that needs an access token. Without a token only `detail` comes; a token
# that was sent and refused adds `code` and, per token type tried, why it was refused.
AuthenticationError = inline_serializer(
    "AuthenticationError",
    {
        "detail": serializers.CharField(
            help_text='e.g. "Authentication credentials were not provided." or '
            '"Given token not valid for any token type"'
        ),
        "code": serializers.CharField(
            required=False,
            help_text="Present when a token was sent and refused: `token_not_valid`, "
            "`user_not_found`, `user_inactive`, `bad_authorization_header`.",
        ),
        "messages": serializers.ListField(
            child=inline_serializer(
                "TokenRefusal",
                {
                    "token_class": serializers.CharField(help_text="`AccessToken`"),
                    "token_type": serializers.CharField(help_text="`access`"),
                    "message": serializers.CharField(
                        help_text='e.g. "Token is expired", "Token has wrong type"'
                    ),
                },
            ),
            required=False,
            help_text="Why each kind of token the server tried refused the one sent.",
        ),
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
    429: "Too many requests: try again after the `Retry-After` header's seconds.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """`responses={200: ..., **error_responses(400, 401, 404)}`."""
    responses: dict[int, OpenApiResponse] = {}
    for code in codes:
        body: Any = {400: VALIDATION_ERROR_SCHEMA, 401: AuthenticationError}.get(code, ErrorDetail)
        responses[code] = OpenApiResponse(response=body, description=_DESCRIPTIONS[code])
    return responses
