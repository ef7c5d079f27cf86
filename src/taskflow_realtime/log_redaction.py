"""Keep query strings out of the realtime log: a token put in the `/ws` URL must never be written.

The protocol sends the token in the `auth` frame (docs/protocol.md), but a client may still put
one in the URL. uvicorn logs every WebSocket handshake on its `uvicorn.error` logger (not the
access log, so `--no-access-log` does not silence it) as `"WebSocket <path>?<query>"`. This
filter cuts the query off any path argument of uvicorn's records before a handler formats them.
"""

from __future__ import annotations

import logging

# The loggers uvicorn writes request lines to.
UVICORN_LOGGERS = ("uvicorn.error", "uvicorn.access")


class DropQueryStrings(logging.Filter):
    """Rewrites `/path?query` arguments of a record to `/path` (and lets the record through)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_without_query(arg) for arg in record.args)
        return True


def _without_query(arg: object) -> object:
    if isinstance(arg, str) and arg.startswith("/") and "?" in arg:
        return arg.partition("?")[0]
    return arg


def install() -> None:
    """Filter uvicorn's loggers; idempotent (the app may be created more than once)."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, DropQueryStrings) for existing in logger.filters):
            logger.addFilter(DropQueryStrings())
