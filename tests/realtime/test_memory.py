"""Handing freed memory back (taskflow_realtime/memory.py): one trim a moment after a burst of
dropped sockets, however many ask for it meanwhile."""

from __future__ import annotations

import asyncio

from taskflow_realtime import memory


def test_a_burst_of_requests_schedules_one_trim_which_then_runs() -> None:
    async def scenario() -> None:
        memory.TRIM_DELAY_SECONDS = 0.05
        assert memory.trim_soon()  # glibc here: malloc_trim exists
        first = memory._scheduled
        assert first is not None
        assert memory.trim_soon()
        assert memory._scheduled is first  # one trim for the burst
        await asyncio.sleep(0.2)
        assert memory._scheduled is None  # it ran; the next drop schedules another
        assert memory.trim_soon()
        second = memory._scheduled
        assert second is not None
        assert second is not first
        second.cancel()
        memory._scheduled = None

    delay = memory.TRIM_DELAY_SECONDS
    try:
        asyncio.run(scenario())
    finally:
        memory.TRIM_DELAY_SECONDS = delay
