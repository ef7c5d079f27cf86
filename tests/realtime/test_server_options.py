"""How the realtime server is run: options a client can observe on the wire."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.realtime.conftest import Realtime

pytestmark = [pytest.mark.integration]


def test_the_server_declines_per_message_compression(realtime: Realtime) -> None:
    # The client offers permessage-deflate (the websockets default); the server must not accept
    # it: per-socket zlib state would triple an idle socket's memory (see realtime_command).
    with connect(realtime.ws_url, open_timeout=10) as socket:
        assert socket.response is not None
        assert socket.response.headers.get("Sec-WebSocket-Extensions") is None


def test_log_level_is_the_realtime_process_s_too(start_realtime: Callable[..., Realtime]) -> None:
    # `LOG_LEVEL` sets the realtime process's level as it sets the core's. At INFO uvicorn writes
    # lines for every socket; at WARNING none (a quarter of a refused handshake's cost).
    logs: dict[str, str] = {}
    for level in ("INFO", "WARNING"):
        realtime = start_realtime(uvicorn_log_level=None, LOG_LEVEL=level)
        realtime.health().raise_for_status()
        with connect(realtime.ws_url, open_timeout=10):
            pass
        # SIGTERM: uvicorn stops, and the log thread writes what is queued before it exits.
        child = realtime.process.process
        assert child is not None
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(15)
        logs[level] = realtime.process.output()
    assert '"WebSocket /ws" [accepted]' in logs["INFO"], logs["INFO"]
    assert "connection open" in logs["INFO"], logs["INFO"]
    assert "WebSocket" not in logs["WARNING"], logs["WARNING"]
    assert "connection" not in logs["WARNING"], logs["WARNING"]


def test_only_ws_is_a_socket(realtime: Realtime) -> None:
    # `/ws` is routed ahead of FastAPI (app.py): any other path is refused at the handshake.
    for path in ("/ws/", "/wss", "/health"):
        with pytest.raises(InvalidStatus) as refused:
            connect(f"ws://127.0.0.1:{realtime.port}{path}", open_timeout=10)
        assert refused.value.response.status_code == 403
