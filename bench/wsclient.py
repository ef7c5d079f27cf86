"""A deliberately light WebSocket client (RFC 6455) for holding thousands of sockets.

One asyncio protocol object per connection and no task per connection: the client must stay
far cheaper than the server it measures. It answers pings, records when each text frame
arrived (CLOCK_MONOTONIC, comparable across processes), and parses JSON only when asked.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import struct
import time
from collections.abc import Callable
from typing import Any, cast

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

OnMessage = Callable[["WsClient", float, bytes], None]


def _mask(payload: bytes, key: bytes) -> bytes:
    if not payload:
        return payload
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")
    return masked.to_bytes(len(payload), "little")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """A masked, final client frame."""
    key = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return header + key + _mask(payload, key)


class WsClient(asyncio.Protocol):
    def __init__(self, host: str, port: int, path: str = "/ws") -> None:
        self.host, self.port, self.path = host, port, path
        self.transport: asyncio.Transport | None = None
        self.upgraded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.on_message: OnMessage | None = None
        self.messages: list[tuple[float, bytes]] = []  # kept when on_message is None
        self.pings = 0
        self.user_id: int | None = None
        self._buffer = bytearray()
        self._fragments = bytearray()
        self._waiter: asyncio.Future[None] | None = None

    # asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self._buffer += data
        if not self.upgraded.done():
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status_line = bytes(self._buffer[: self._buffer.find(b"\r\n")])
            del self._buffer[: end + 4]
            if b" 101 " not in status_line:
                self.upgraded.set_exception(ConnectionError(status_line.decode(errors="replace")))
                self._abort()
                return
            self.upgraded.set_result(None)
        self._parse_frames(now)

    def connection_lost(self, exc: Exception | None) -> None:
        self._wake()
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next_arrival(self, within: float) -> None:
        """Wait until a message is kept or the socket closes (or `within` seconds pass)."""
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(self._waiter, within)
        finally:
            self._waiter = None

    # frames --------------------------------------------------------------------------------
    def _parse_frames(self, now: float) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length = second & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = struct.unpack_from("!H", buffer, 2)[0]
                offset = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = struct.unpack_from("!Q", buffer, 2)[0]
                offset = 10
            masked = second & 0x80
            if masked:
                offset += 4
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            if masked:
                payload = _mask(payload, bytes(buffer[offset - 4 : offset]))
            del buffer[: offset + length]
            self._frame(first & 0x80, first & 0x0F, payload, now)

    def _frame(self, fin: int, opcode: int, payload: bytes, now: float) -> None:
        if opcode in (OP_TEXT, OP_BINARY, OP_CONT):
            self._fragments += payload
            if fin:
                message = bytes(self._fragments)
                self._fragments.clear()
                if self.on_message is not None:
                    self.on_message(self, now, message)
                else:
                    self.messages.append((now, message))
                    self._wake()
        elif opcode == OP_PING:
            self.pings += 1
            self._write(OP_PONG, payload)
        elif opcode == OP_CLOSE:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self._write(OP_CLOSE, payload[:2])
            self._abort()

    # sending -------------------------------------------------------------------------------
    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(opcode, payload))

    def send_json(self, message: dict[str, Any]) -> None:
        self._write(OP_TEXT, json.dumps(message).encode())

    def close(self, code: int = 1000) -> None:
        self._write(OP_CLOSE, struct.pack("!H", code))
        self._abort()

    def _abort(self) -> None:
        if self.transport is not None:
            self.transport.close()

    @property
    def is_open(self) -> bool:
        return self.transport is not None and not self.transport.is_closing()


async def connect(host: str, port: int, path: str = "/ws") -> WsClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: WsClient(host, port, path), host, port)
    await client.upgraded
    return client


async def wait_for_message(
    client: WsClient, predicate: Callable[[dict[str, Any]], bool], within: float
) -> dict[str, Any]:
    """Wait (polling the kept messages) until one satisfies `predicate`; consume up to it."""
    deadline = time.monotonic() + within
    while True:
        while client.messages:
            _, raw = client.messages.pop(0)
            message: dict[str, Any] = json.loads(raw)
            if predicate(message):
                return message
        if client.closed.done():
            raise ConnectionError(f"socket closed with code {client.close_code}")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no matching message in time")
        with contextlib.suppress(TimeoutError):
            await client.next_arrival(remaining)


async def open_authenticated(host: str, port: int, token: str, path: str = "/ws") -> WsClient:
    """Connect, send the auth frame (docs/protocol.md) and wait for `ready` (callers bound the
    time)."""
    client = await connect(host, port, path)
    client.send_json({"type": "auth", "token": token, "last_event_id": None})
    ready = await wait_for_message(client, lambda message: True, 60.0)
    if ready.get("type") != "ready":
        client.close()
        raise ConnectionError(f"expected ready, got {ready}")
    client.user_id = int(ready["user"])
    return client


async def open_many(
    host: str, port: int, tokens: list[str], concurrency: int = 200, per_socket: float = 60.0
) -> tuple[list[WsClient], list[str]]:
    """Open one authenticated socket per token, `concurrency` handshakes at a time."""
    gate = asyncio.Semaphore(concurrency)
    errors: list[str] = []

    async def one(token: str) -> WsClient | None:
        async with gate:
            try:
                async with asyncio.timeout(per_socket):
                    return await open_authenticated(host, port, token)
            except (OSError, TimeoutError, ValueError, KeyError) as error:
                errors.append(f"{type(error).__name__}: {error}")
                return None

    opened = await asyncio.gather(*(one(token) for token in tokens))
    return [client for client in opened if client is not None], errors
