"""The `Idempotency-Key` header in the OpenAPI schema: a parameter of every POST operation
(docs/api.md, "Retries"), with the 409 and 422 it can cause where it is honoured."""

from __future__ import annotations

from typing import Any

PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    "description": (
        "Makes a retry safe: a repeat of this request with the same key and body within 24 h "
        "returns the first response (with `Idempotent-Replayed: true`) without doing the work "
        "again; the same key with a different request is 422; while the first request with "
        "the key is still running a repeat waits for it (up to 10 s, then 409). Keys are per "
        "user; on endpoints that need no sign-in the header is accepted and ignored."
    ),
}
ERROR = {"$ref": "#/components/schemas/ErrorDetail"}
RESPONSES = {
    "409": "A request with this Idempotency-Key is still in progress; retry shortly.",
    "422": "This Idempotency-Key was already used with a different request.",
}


def add_idempotency_key(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (`SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]`)."""
    for path_item in result.get("paths", {}).values():
        operation = path_item.get("post")
        if operation is None:
            continue
        operation.setdefault("parameters", []).append(dict(PARAMETER))
        if operation.get("security", [{}]) == [{}]:
            continue  # no sign-in: the key is ignored, so it causes neither error
        responses = operation.setdefault("responses", {})
        for code, description in RESPONSES.items():
            responses.setdefault(
                code,
                {"description": description, "content": {"application/json": {"schema": ERROR}}},
            )
    return result
