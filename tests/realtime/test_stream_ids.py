"""Stream ids as clients send them back: `<ms>-<seq>`, compared as number pairs."""

from __future__ import annotations

import pytest

from taskflow_realtime.stream_ids import parse_stream_id


def test_ids_parse_to_number_pairs_that_order_numerically() -> None:
    assert parse_stream_id("1700000000000-12") == (1700000000000, 12)
    assert parse_stream_id("9-0") < parse_stream_id("10-0")  # type: ignore[operator]


@pytest.mark.parametrize("text", ["", "12", "1-2-3", "a-1", "1-", " 1-2", "1-2 ", "1" * 21 + "-0"])
def test_anything_else_is_not_an_id(text: str) -> None:
    assert parse_stream_id(text) is None
