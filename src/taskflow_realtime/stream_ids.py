"""Redis stream ids (`<ms>-<seq>`), the event ids clients see: compared as number pairs."""

from __future__ import annotations

import re

StreamId = tuple[int, int]

_STREAM_ID = re.compile(r"(\d{1,20})-(\d{1,20})")


def parse_stream_id(text: str) -> StreamId | None:
    match = _STREAM_ID.fullmatch(text)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2))
