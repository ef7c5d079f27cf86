"""Reaching the TCP transport under a WebSocket, to reset a connection a close cannot end.

A close frame is queued behind whatever the peer has not read; a peer that stopped reading
(a zero receive window) never gets it, and the connection would stay ESTABLISHED with its
buffers for as long as the peer stays. ASGI hands the application no transport, so the app's
outermost layer (app.py, where `send` is still the server's own bound method) keeps the
server's protocol object in the scope (`keep_server_protocol`); `abort_transport` then resets
the connection, which frees its buffers at once (docs/reliability.md, "A slow socket").
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from starlette.types import Scope, Send
from starlette.websockets import WebSocket

SCOPE_KEY = "taskflow.server_protocol"


def keep_server_protocol(scope: Scope, send: Send) -> None:
    """Keep in `scope` the server's protocol object behind `send` (uvicorn's, as the server
    gave it: no middleware has wrapped it yet)."""
    scope[SCOPE_KEY] = getattr(send, "__self__", None)


def _transport(websocket: WebSocket) -> Any:
    return getattr(websocket.scope.get(SCOPE_KEY), "transport", None)


def transport_open(websocket: WebSocket) -> bool:
    """Is the TCP connection under `websocket` still there? (False once fully closed.)"""
    transport = _transport(websocket)
    sock = transport.get_extra_info("socket") if transport is not None else None
    return sock is not None and sock.fileno() != -1


def limit_send_buffer(websocket: WebSocket, size: int) -> bool:
    """Cap the kernel's send buffer of the TCP connection under `websocket` (SO_SNDBUF, which
    Linux doubles and which stops its autotuning); False when it cannot be found."""
    transport = _transport(websocket)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.fileno() == -1:
        return False
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, size)
    return True


def abort_transport(websocket: WebSocket) -> bool:
    """Reset the TCP connection under `websocket`; False when it cannot be found.

    A plain close would still queue a FIN behind the unread data (which a peer with a zero
    window never takes); SO_LINGER with a zero timeout makes the kernel send a RST and drop
    the data at once."""
    transport = _transport(websocket)
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.fileno() != -1:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return True
