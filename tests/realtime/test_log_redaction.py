"""The filter on uvicorn's loggers: a path's query string never reaches a formatted line."""

from __future__ import annotations

import io
import logging

from taskflow_realtime import log_redaction


def formatted(logger_name: str, message: str, *args: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        logger.info(message, *args)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return stream.getvalue()


def test_uvicorn_handshake_lines_lose_the_query_string() -> None:
    log_redaction.install()
    log_redaction.install()  # idempotent: one filter
    assert (
        sum(
            isinstance(f, log_redaction.DropQueryStrings)
            for f in logging.getLogger("uvicorn.error").filters
        )
        == 1
    )
    line = formatted(
        "uvicorn.error", '%s - "WebSocket %s" [accepted]', "127.0.0.1:5", "/ws?token=SECRET&a=1"
    )
    assert line == '127.0.0.1:5 - "WebSocket /ws" [accepted]\n'
    # Anything that is not a path with a query is left alone.
    assert formatted("uvicorn.error", "%s %s %d", "a?b", "/ws", 3) == "a?b /ws 3\n"
