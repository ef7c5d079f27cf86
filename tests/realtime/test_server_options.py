"""How the realtime server is run: options a client can observe on the wire."""

from __future__ import annotations

import pytest
from websockets.sync.client import connect

from tests.realtime.conftest import Realtime

pytestmark = [pytest.mark.integration]


def test_the_server_declines_per_message_compression(realtime: Realtime) -> None:
    # The client offers permessage-deflate (the websockets default); the server must not accept
    # it: per-socket zlib state would triple an idle socket's memory (see realtime_command).
    with connect(realtime.ws_url, open_timeout=10) as socket:
        assert socket.response is not None
        assert socket.response.headers.get("Sec-WebSocket-Extensions") is None
