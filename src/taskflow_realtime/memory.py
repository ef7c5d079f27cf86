"""Keeping the garbage collector's pauses short, and giving memory back to the system once the
buffers of dropped sockets are freed.

Every object the process loaded at startup (FastAPI, pydantic, redis-py, uvicorn: ~70,000
objects) would be traversed by each full (generation-2) collection, a pause of 50-90 ms on the
2-core machines here, during which no socket is served: the P7 benchmark's worst push
latencies were those pauses (bench/NOTES.md, "P7"). `freeze_startup_heap` moves them to the
permanent generation once the app is ready, which makes a full collection traverse only what
the sockets allocate since.

A socket that stops reading is closed (1013) and, past the close deadline, reset; its buffers
(the transport's, up to 64 KiB and a frame, and its send queue) are then freed. Python frees
them to glibc's malloc, which keeps freed memory in its heap for reuse rather than returning
it: after 300 such sockets RSS stayed ~30 MB up although nothing held it
(tests/realtime/test_send_budget.py). `malloc_trim(0)` hands the free pages back. It walks the
heap (milliseconds for a heap of this size), so it runs once, a moment after a burst of drops,
not per socket. Without glibc (no `malloc_trim`) this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

# Long enough for the sockets dropped together to be gone by then.
TRIM_DELAY_SECONDS = 1.0


def _find_malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_malloc_trim = _find_malloc_trim()
_scheduled: asyncio.TimerHandle | None = None
_scheduled_on: asyncio.AbstractEventLoop | None = None


def freeze_startup_heap() -> None:
    """Collect once, then exclude everything alive now from later collections (`gc.freeze`)."""
    gc.collect()
    gc.freeze()


def trim_soon() -> bool:
    """Return freed memory to the system in TRIM_DELAY_SECONDS (once, however many ask in the
    meantime); False when there is no `malloc_trim` here."""
    global _scheduled, _scheduled_on
    if _malloc_trim is None:
        return False
    loop = asyncio.get_running_loop()
    # A trim scheduled on another loop (one that has ended: tests run several) never runs.
    if _scheduled is None or _scheduled_on is not loop:
        _scheduled, _scheduled_on = loop.call_later(TRIM_DELAY_SECONDS, _trim), loop
    return True


def _trim() -> None:
    global _scheduled
    _scheduled = None
    if _malloc_trim is not None:
        _malloc_trim(0)
