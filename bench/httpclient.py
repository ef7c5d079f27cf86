"""A small keep-alive HTTP/1.1 client and the load shapes the benchmarks use.

Hand-rolled on asyncio streams so that the client costs little next to the server on a
2-core machine (httpx spends about a millisecond of CPU per request).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    status: int
    body: bytes
    sent_at: float
    received_at: float
    etag: str | None = None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def latency(self) -> float:
        return self.received_at - self.sent_at


@dataclass
class Request:
    method: str
    path: str
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class HttpConnection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _ensure(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.reader is None or self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, request: Request) -> Response:
        body = b"" if request.body is None else json.dumps(request.body).encode()
        lines = [
            f"{request.method} {request.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Accept: application/json",
            f"Content-Length: {len(body)}",
        ]
        if request.body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{name}: {value}" for name, value in request.headers.items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        for attempt in (1, 2):  # a keep-alive connection the server timed out is reopened once
            reader, writer = await self._ensure()
            sent_at = time.monotonic()
            try:
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
                continue
            status, headers = _parse_head(head)
            if status in (204, 304) or 100 <= status < 200:
                payload = b""  # never a body (RFC 9112 §6.3)
            elif "content-length" in headers:
                payload = await reader.readexactly(int(headers["content-length"]))
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                payload = await _read_chunked(reader)
            else:
                payload = await reader.read()
                self.close()
            received_at = time.monotonic()
            if headers.get("connection", "").lower() == "close":
                self.close()
            return Response(status, payload, sent_at, received_at, headers.get("etag"))
        raise AssertionError("unreachable")


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


MakeRequest = Callable[[int], Request]


@dataclass
class LoadResult:
    responses: list[Response]
    errors: list[str]
    started_at: float
    finished_at: float

    @property
    def elapsed(self) -> float:
        return self.finished_at - self.started_at

    def ok(self, expected: int) -> list[Response]:
        return [response for response in self.responses if response.status == expected]


async def closed_loop(
    host: str, port: int, make: MakeRequest, clients: int, duration: float, warmup: float = 1.0
) -> LoadResult:
    """`clients` connections, each sending its next request as soon as the last one answered.

    Responses during `warmup` are discarded; only those sent within `duration` after it count.
    """
    connections = [HttpConnection(host, port) for _ in range(clients)]
    responses: list[Response] = []
    errors: list[str] = []
    counter = 0
    begin = time.monotonic()
    measure_from = begin + warmup
    stop_at = measure_from + duration

    async def worker(connection: HttpConnection) -> None:
        nonlocal counter
        while time.monotonic() < stop_at:
            counter += 1
            try:
                response = await connection.request(make(counter))
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                errors.append(f"{type(error).__name__}: {error}")
                await asyncio.sleep(0.01)
                continue
            if response.sent_at >= measure_from and response.received_at <= stop_at:
                responses.append(response)

    try:
        await asyncio.gather(*(worker(connection) for connection in connections))
    finally:
        for connection in connections:
            connection.close()
    return LoadResult(responses, errors, measure_from, stop_at)


async def alternating_closed_loops(
    host: str,
    sides: Sequence[tuple[int, MakeRequest]],
    clients: int,
    duration: float,
    turn: float = 0.5,
    warmup: float = 1.0,
) -> list[LoadResult]:
    """A closed loop of `clients` connections on each of `sides` (port, requests), in turns of
    `turn` seconds, side after side, until each side has had `duration` seconds: servers
    compared side by side on a shared machine see the same spells of it (a slow second lands
    on both), instead of whichever ran in the slower of two consecutive phases.

    Each side is first warmed up for `warmup` seconds (nothing counted). Every turn opens its
    own connections: gunicorn's workers race to accept them, and one worker often takes all
    16 (half the throughput of an even split on two cores, measured), so a side that kept one
    set of connections for its whole phase would be measured on one random split.

    A turn starts with every client idle and ends once each has its last answer: the request
    in flight at the turn's end is counted, and each client's time runs until that answer, so
    a side's throughput is the sum over its clients of answers / time spent waiting for them
    (a turn cut at a fixed instant would drop up to one request per client per turn, more of
    the slower side's share). Returns one result per side, its `elapsed` being the time that
    throughput implies for all its answers."""
    connections = [[HttpConnection(host, port) for _ in range(clients)] for port, _ in sides]
    counters = [0] * len(sides)
    answered = [[0] * clients for _ in sides]
    waited = [[0.0] * clients for _ in sides]
    responses: list[list[Response]] = [[] for _ in sides]
    errors: list[list[str]] = [[] for _ in sides]

    async def run(side: int, seconds: float, counted: bool) -> None:
        make = sides[side][1]
        begin = time.monotonic()
        stop_at = begin + seconds

        async def client(slot: int, connection: HttpConnection) -> None:
            last = begin
            done = 0
            while time.monotonic() < stop_at:
                counters[side] += 1
                try:
                    response = await connection.request(make(counters[side]))
                except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                    errors[side].append(f"{type(error).__name__}: {error}")
                    await asyncio.sleep(0.01)
                    continue
                last = response.received_at
                done += 1
                if counted:
                    responses[side].append(response)
            if counted:
                answered[side][slot] += done
                waited[side][slot] += last - begin

        await asyncio.gather(
            *(client(slot, connection) for slot, connection in enumerate(connections[side]))
        )
        for connection in connections[side]:
            connection.close()  # the next turn's connections are spread over the workers anew

    try:
        for side in range(len(sides)):
            await run(side, warmup, counted=False)
        turns = max(1, round(duration / turn))
        for _ in range(turns):
            for side in range(len(sides)):
                await run(side, duration / turns, counted=True)
    finally:
        for side_connections in connections:
            for connection in side_connections:
                connection.close()
    results = []
    for side in range(len(sides)):
        rate = sum(n / t for n, t in zip(answered[side], waited[side], strict=True) if t > 0)
        count = len(responses[side])
        elapsed = count / rate if rate else float("inf")
        results.append(LoadResult(responses[side], errors[side], 0.0, elapsed))
    return results


async def open_loop(
    host: str,
    port: int,
    make: MakeRequest,
    rate: float,
    duration: float,
    max_in_flight: int = 32,
    on_response: Callable[[int, Response], None] | None = None,
) -> LoadResult:
    """Send `rate` requests per second on schedule (not waiting for answers) for `duration`.

    Latency is measured from each request's scheduled time, so a stalled server cannot hide
    its queueing delay (no coordinated omission).
    """
    idle = [HttpConnection(host, port) for _ in range(max_in_flight)]
    available = asyncio.Semaphore(max_in_flight)
    responses: list[Response] = []
    errors: list[str] = []
    tasks: set[asyncio.Task[None]] = set()
    started_at = time.monotonic()
    total = int(rate * duration)

    async def send(index: int, scheduled: float) -> None:
        await available.acquire()
        connection = idle.pop()
        try:
            response = await connection.request(make(index))
            response.sent_at = scheduled
            responses.append(response)
            if on_response is not None:
                on_response(index, response)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            errors.append(f"{type(error).__name__}: {error}")
        finally:
            idle.append(connection)
            available.release()

    for index in range(total):
        scheduled = started_at + index / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(send(index, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    for connection in idle:
        connection.close()
    return LoadResult(responses, errors, started_at, time.monotonic())
