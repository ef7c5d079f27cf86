"""The API's one JSON parser: bounded in bytes and in nesting depth (docs/api.md, "Limits").

Python's decoder recurses once per nesting level, so `'[' * 100000` raises RecursionError deep
inside it; and a document just under the interpreter's limit would still be walked recursively
by serializers later. Both are refused here as a 400, before any view sees the data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

# Deeper than any body this API accepts (a task is two levels), far below the recursion limit.
MAX_JSON_DEPTH = 32


class PayloadTooLarge(APIException):
    # Defined here, not in common.exceptions: DRF imports this module while loading its views.
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "payload_too_large"


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether `value` nests containers deeper than `limit` (iterative: no recursion here)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    """JSON bodies up to `TASKFLOW_MAX_BODY_BYTES`, nested at most `MAX_JSON_DEPTH` deep."""

    def parse(
        self,
        stream: IO[bytes] | None,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        if stream is None:
            raise ParseError("JSON parse error - empty body.")
        limit = settings.TASKFLOW_MAX_BODY_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge()
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise ParseError(f"JSON nested too deeply (at most {MAX_JSON_DEPTH} levels).") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON nested too deeply (at most {MAX_JSON_DEPTH} levels).")
        return data


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; DRF's strict mode refuses them the same way.
    raise ValueError(f"{name} is not valid JSON")
