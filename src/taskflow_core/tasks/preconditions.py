"""Optimistic concurrency over HTTP: the task's `version` is its entity tag."""

from __future__ import annotations

import re

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from taskflow_core.tasks.models import Task

# `"3"`, the weak form `W/"3"` (some proxies weaken tags) and a bare `3` all mean version 3.
_ENTITY_TAG = re.compile(r'^(?:W/)?"(\d{1,18})"$|^(\d{1,18})$')


def expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` header demands; None when absent or `*` (any version)."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ENTITY_TAG.match(if_match.strip())
    if match is None:
        raise ValidationError(
            {"If-Match": ['Expected the task\'s entity tag, e.g. "3" (from its ETag header).']}
        )
    return int(match.group(1) or match.group(2))


def with_etag(response: Response, task: Task) -> Response:
    response["ETag"] = f'"{task.version}"'
    return response
