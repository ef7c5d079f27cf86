"""The command line of every process of the stack, and what the realtime service is never given.

`make run` (taskflow_local.stack), the integration tests and the benchmarks run these lists;
deploy/compose.yaml spells the same commands out and tests/deploy/test_compose.py holds it to
them.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

# The realtime service verifies tokens with the public key only and never touches PostgreSQL.
REALTIME_WITHHELD = ("JWT_PRIVATE_KEY", "JWT_PRIVATE_KEY_FILE", "DATABASE_URL", "SECRET_KEY")

CELERY_APP = "taskflow_core.config.celery_app"
# gunicorn's settings for the core (taskflow_core/config/gunicorn.py): the access log format (the
# path without its query string) and the logger that escapes control characters in it.
CORE_GUNICORN_CONFIG = "python:taskflow_core.config.gunicorn"
# Client frames are an `auth` frame (a token of well under 1 KiB) and nothing bigger: uvicorn
# reads a frame whole before the app sees it, so its 16 MiB default let one unauthenticated
# socket cost 16 MiB. A bigger frame is refused from its header, with close 1009
# (docs/protocol.md).
WS_MAX_FRAME_BYTES = 4096


def realtime_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the secrets and the database the realtime service must never hold."""
    return {key: value for key, value in env.items() if key not in REALTIME_WITHHELD}


def uvicorn_args(
    port: int, host: str = "127.0.0.1", forwarded_allow_ips: str = "127.0.0.1"
) -> list[str]:
    """uvicorn's arguments for the realtime app, wherever it runs (stack, tests, bench, compose).

    permessage-deflate is off: its zlib state costs ~45 KiB per socket (two thirds of an idle
    socket's memory), and event frames are small JSON that gains little from compression.
    Client frames over WS_MAX_FRAME_BYTES are refused before they are read. The sans-I/O
    WebSocket implementation costs a handshake a fraction of the default's (no tasks of its
    own per connection): docs/events.md.
    """
    return [
        "taskflow_realtime.app:app",
        *("--host", host, "--port", str(port), "--no-access-log"),
        *("--proxy-headers", "--forwarded-allow-ips", forwarded_allow_ips),
        *("--ws", "websockets-sansio"),
        *("--ws-per-message-deflate", "false"),
        *("--ws-max-size", str(WS_MAX_FRAME_BYTES)),
    ]


def realtime_command(port: int, host: str = "127.0.0.1") -> list[str]:
    """The realtime service under this interpreter, trusting forwarded headers from 127.0.0.1."""
    return [sys.executable, "-m", "uvicorn", *uvicorn_args(port, host)]


def core_command(bind: str, *, workers: int = 2, threads: int = 8) -> list[str]:
    return [
        *(sys.executable, "-m", "gunicorn", "-c", CORE_GUNICORN_CONFIG),
        "taskflow_core.config.wsgi",
        *("--bind", bind, "--workers", str(workers), "--threads", str(threads)),
    ]


def relay_command() -> list[str]:
    """Re-sends outbox events that a crash left unpublished (run from the repository root)."""
    return [sys.executable, "manage.py", "relay_outbox"]


def celery_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", CELERY_APP, *args]


def worker_command(concurrency: int = 2) -> list[str]:
    return celery_command("worker", "-l", "info", "--concurrency", str(concurrency))


def beat_command(schedule: Path) -> list[str]:
    return celery_command("beat", "-l", "info", "-s", str(schedule))
