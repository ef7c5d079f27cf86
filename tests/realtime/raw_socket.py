"""A WebSocket client on a bare TCP socket, for tests that must misbehave on the wire: frames
bigger than the server allows, or a client that stops reading. websockets' sans-I/O protocol
does the handshake and parses what the server sends; frames going out are written by hand."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import time

from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.protocol import State
from websockets.uri import parse_uri

CHUNK = 64 * 1024


class RawSocket:
    def __init__(self, port: int, *, receive_buffer: int | None = None, timeout: float = 20.0):
        self.sock = socket.socket()
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.protocol = ClientProtocol(parse_uri(f"ws://127.0.0.1:{port}/ws"))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        while self.protocol.state is State.CONNECTING:
            self.protocol.receive_data(self.sock.recv(4096))
        assert self.protocol.state is State.OPEN, self.protocol.handshake_exc

    def _flush(self) -> None:
        self.sock.sendall(b"".join(self.protocol.data_to_send()))

    def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())
        self._flush()

    def auth(self, token: str) -> None:
        self.send_text(json.dumps({"type": "auth", "token": token, "last_event_id": None}))

    def send_frame_header(self, length: int) -> None:
        """The start of a final text frame of `length` bytes (masked with a zero key)."""
        self.sock.sendall(struct.pack("!BBQ", 0x81, 0x80 | 127, length) + b"\0\0\0\0")

    def send_payload(self, length: int) -> int:
        """Up to `length` bytes of frame payload; stops early when the server has hung up.
        Returns how many bytes went out."""
        sent = 0
        chunk = b" " * CHUNK
        with contextlib.suppress(OSError):
            while sent < length:
                sent += self.sock.send(chunk[: min(CHUNK, length - sent)])
        return sent

    def frames(self, timeout: float) -> list[Frame]:
        """Whatever the server sends within `timeout` seconds (or until it closes)."""
        received: list[Frame] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                break
            except OSError:
                data = b""
            if data:
                self.protocol.receive_data(data)
            else:
                self.protocol.receive_eof()
            for event in self.protocol.events_received():
                if isinstance(event, Frame):
                    received.append(event)
            if not data or any(frame.opcode is Opcode.CLOSE for frame in received):
                break
        return received

    def close_code(self, timeout: float, max_frames: int = 100) -> int | None:
        """The code of the server's close frame, if one arrives within `timeout` seconds
        (reading past up to `max_frames` other frames)."""
        deadline = time.monotonic() + timeout
        seen = 0
        while seen < max_frames and time.monotonic() < deadline:
            frames = self.frames(deadline - time.monotonic())
            if not frames:
                return None
            for frame in frames:
                if frame.opcode is Opcode.CLOSE:
                    return Close.parse(frame.data).code
            seen += len(frames)
        return None

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
