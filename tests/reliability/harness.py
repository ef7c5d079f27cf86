"""The drill harness (docs/reliability.md): the whole stack as real processes, sockets that
record every frame, and the comparison of what they received with what the database says
happened.

A `DrillStack` runs its own Redis (so a drill may stop, freeze or empty it without touching the
suite's), gunicorn, the relay, a realtime process, a Celery worker and beat, and an aiosmtpd
sink, all on the test database. `RecordingSocket` reads on a thread of its own (a socket that
is not read would be dropped as slow) and reconnects with `last_event_id` when closed, like
taskflow-client.js. `Ledger.check` is the verdict: 0 lost without `resync`, 0 duplicated, 0 out
of order within a task; `emails_exactly_once` compares the email outbox with the sink.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.events.models import OutboxEvent
from taskflow_core.events.publishing import event_text
from taskflow_core.notifications.models import Notification
from taskflow_deploy.commands import core_command as deploy_core_command
from taskflow_deploy.commands import realtime_command
from taskflow_local.embedded import EmbeddedRedis
from tests.emails.background import Mailbox, smtp_server, wait_until, worker_env
from tests.realtime.conftest import realtime_env
from tests.support.processes import ServerProcess, free_port, service_env

CELERY = [sys.executable, "-m", "celery", "-A", "taskflow_core.config.celery_app"]
# Timings of the stack under drill: a quick relay, and a sweep that re-queues a lost email
# job after seconds (production: minutes).
DRILL_ENV = {
    "TASKFLOW_RELAY_POLL_MS": "200",
    "TASKFLOW_RELAY_GRACE_MS": "500",
    "TASKFLOW_EMAIL_REQUEUE_AFTER_SECONDS": "3",
    "TASKFLOW_EMAIL_REQUEUE_SCAN_SECONDS": "2",
    "TASKFLOW_EMAIL_BACKOFF_SECONDS": "0.5",
    "TASKFLOW_EMAIL_DIGEST_SCAN_SECONDS": "2",
    "TASKFLOW_EMAIL_DELAY_UNIT_SECONDS": "0.01",
    # The production bound, not the test settings' relaxed one: this is what is drilled.
    "TASKFLOW_REQUEST_REDIS_BUDGET_MS": "50",
}


def core_command(port: int) -> list[str]:
    """gunicorn as everywhere else (taskflow_deploy.commands), 2 workers x 4 threads."""
    return deploy_core_command(f"127.0.0.1:{port}", workers=2, threads=4)


class DrillRedis(EmbeddedRedis):
    """The drill's own Redis: it may be frozen, stopped and started again empty."""

    def freeze(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def crash(self) -> None:
        """SIGKILL: whatever was not in a snapshot is gone."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def snapshot(self) -> None:
        """Write dump.rdb now; a later `start` loads it (Redis back from an older state)."""
        client = redis.Redis.from_url(self.url)
        try:
            client.save()
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)  # a frozen process cannot terminate
        super().stop()


@dataclass
class DrillStack:
    root: Path
    stream: str
    redis: DrillRedis = field(init=False)
    mailbox: Mailbox = field(init=False)
    processes: dict[str, ServerProcess] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    closers: list[Callable[[], object]] = field(default_factory=list)
    # Extra environment of the realtime process (e.g. a small TASKFLOW_WS_SEND_QUEUE_SIZE).
    realtime_env: dict[str, str] = field(default_factory=dict)

    def cleanup(self, close: Callable[[], object]) -> None:
        """Call `close` when the stack stops (clients of the stack's processes)."""
        self.closers.append(close)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.ports['core']}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ports['realtime']}/ws"

    def realtime_metric(self, name: str) -> float:
        """One unlabelled figure of the realtime process's /metrics."""
        url = f"http://127.0.0.1:{self.ports['realtime']}/metrics"
        for line in httpx.get(url, timeout=10).text.splitlines():
            if line.startswith(f"{name} "):
                return float(line.split()[1])
        raise AssertionError(f"{name} is not in {url}")

    def env(self, **extra: str) -> dict[str, str]:
        return service_env(
            REDIS_URL=self.redis.url, TASKFLOW_EVENT_STREAM=self.stream, **DRILL_ENV, **extra
        )

    def start(self, name: str) -> ServerProcess:
        """Start (or start again) one of the stack's processes."""
        if name == "core":
            port = self.ports.setdefault("core", free_port())
            process = ServerProcess(core_command(port), env=self.env(), port=port)
        elif name == "realtime":
            port = self.ports.setdefault("realtime", free_port())
            env = realtime_env(
                REDIS_URL=self.redis.url, TASKFLOW_EVENT_STREAM=self.stream, **self.realtime_env
            )
            process = ServerProcess(
                [*realtime_command(port), "--log-level", "warning"], env=env, port=port
            )
        elif name == "relay":
            process = ServerProcess([sys.executable, "manage.py", "relay_outbox"], env=self.env())
        elif name in ("worker", "beat"):
            env = worker_env(self.ports["smtp"])
            env.update(DRILL_ENV, REDIS_URL=self.redis.url, TASKFLOW_EVENT_STREAM=self.stream)
            if name == "worker":
                args = [*CELERY, "worker", "-l", "info", "--pool=solo", "--purge", "-n", "d@%h"]
                args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
            else:
                args = [*CELERY, "beat", "-l", "info", "-s", str(self.root / "beat-schedule")]
            process = ServerProcess(args, env=env)
        else:
            raise ValueError(name)
        self.processes[name] = process.start()
        if name == "worker":
            wait_until(lambda: "ready." in process.output(), 90, "the Celery worker")
        return process

    def kill(self, name: str) -> None:
        """SIGKILL the process group: no clean shutdown, like a crash."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.stop()

    def stop_all(self) -> None:
        for close in reversed(self.closers):
            close()
        for process in self.processes.values():
            process.stop()
        self.processes.clear()

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}\n{process.output()[-4000:]}" for name, process in self.processes.items()
        )


@contextmanager
def drill_stack(
    root: Path, stream: str, *names: str, realtime_env: dict[str, str] | None = None
) -> Iterator[DrillStack]:
    stack = DrillStack(root=root, stream=stream, realtime_env=realtime_env or {})
    with ExitStack() as cleanup:
        stack.redis = DrillRedis(root / "redis", port=free_port())
        stack.redis.start()
        cleanup.callback(stack.redis.stop)
        stack.mailbox, stack.ports["smtp"] = cleanup.enter_context(smtp_server())
        cleanup.callback(stack.stop_all)
        for name in names or ("core", "relay", "realtime", "worker", "beat"):
            stack.start(name)
        yield stack


def token(user: User) -> str:
    return str(AccessToken.for_user(user))


class RecordingSocket:
    """One user's client: reads every frame on a thread, reconnects with `last_event_id`.

    `receive_buffer` (bytes, SO_RCVBUF) and `max_queue` (frames websockets reads ahead) make a
    socket that backs up quickly once `stall` stops its reading, like a client on a bad link or
    a frozen tab: the server's send queue for it fills and the server drops it.
    """

    def __init__(
        self,
        url: str,
        user: User,
        *,
        receive_buffer: int | None = None,
        max_queue: int = 16,
    ) -> None:
        self.url = url
        self.user = user
        self.receive_buffer = receive_buffer
        self.max_queue = max_queue
        self.frames: list[dict[str, Any]] = []  # events and resyncs, in arrival order
        self.resynced_at: list[float] = []  # time.time() of each resync
        self.sessions = 0
        # How each connection ended: the close code received, 1006 without a close frame (a
        # reset), None for a connection that failed before opening.
        self.close_codes: list[int | None] = []
        self.last_event_id: str | None = None
        self._stop = threading.Event()
        self._running = threading.Event()  # cleared: disconnected on purpose (`pause`)
        self._running.set()
        self._reading = threading.Event()  # cleared: connected but not reading (`stall`)
        self._reading.set()
        self._lock = threading.Lock()
        self._ws: Any = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _socket(self) -> socket.socket | None:
        """A TCP connection with the small receive buffer, made before the handshake (the
        buffer must be set before connecting to bound the window); None: websockets makes it."""
        if self.receive_buffer is None:
            return None
        url = urlsplit(self.url)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        sock.settimeout(10)
        try:
            sock.connect((url.hostname or "127.0.0.1", url.port or 80))
        except OSError:
            sock.close()
            raise
        return sock

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._running.wait(0.2):
                continue
            code: int | None = None
            try:
                with connect(
                    self.url,
                    sock=self._socket(),
                    open_timeout=10,
                    close_timeout=2,
                    max_queue=self.max_queue,
                    # Like a browser (taskflow-client.js): no pings of its own, which a stalled
                    # socket would not see answered and would end itself.
                    ping_interval=None,
                ) as ws:
                    self._ws = ws
                    ws.send(
                        json.dumps(
                            {
                                "type": "auth",
                                "token": token(self.user),
                                "last_event_id": self.last_event_id,
                            }
                        )
                    )
                    while not self._stop.is_set() and self._running.is_set():
                        if not self._reading.is_set():
                            self._stop.wait(0.1)
                            continue
                        try:
                            frame = json.loads(ws.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        self._record(frame)
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
            except (OSError, InvalidHandshake, TimeoutError):
                pass
            finally:
                self._ws = None
            if code is not None:
                with self._lock:
                    self.close_codes.append(code)
            self._stop.wait(0.3)

    def _record(self, frame: dict[str, Any]) -> None:
        with self._lock:
            if frame["type"] == "ready":
                self.sessions += 1
            elif frame["type"] == "resync":
                self.frames.append(frame)
                self.resynced_at.append(time.time())
                self.last_event_id = None
            elif frame["type"] == "event":
                self.frames.append(frame)
                self.last_event_id = frame["id"]

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [frame for frame in self.frames if frame["type"] == "event"]

    def wait_ready(self, sessions: int = 1, timeout: float = 30) -> None:
        wait_until(lambda: self.sessions >= sessions, timeout, f"socket of {self.user}")

    def pause(self) -> None:
        """Disconnect (like a phone going to sleep) until `resume`."""
        self._running.clear()
        wait_until(lambda: self._ws is None, 10, "the socket to close")

    def resume(self) -> None:
        """Reconnect with the last event id received."""
        sessions = self.sessions
        self._running.set()
        self.wait_ready(sessions + 1)

    def stall(self) -> None:
        """Stop reading, connection left open: frames back up towards the server."""
        self._reading.clear()

    def unstall(self) -> None:
        """Read again: what is still queued, then (if the server dropped the socket) reconnect
        with the last event id received."""
        self._reading.set()

    def close(self) -> None:
        self._stop.set()
        self._running.set()
        self._thread.join(10)


def event_key(name: str, occurred_at: str, data: Any) -> str:
    return json.dumps([name, occurred_at, data], sort_keys=True)


def frame_key(frame: dict[str, Any]) -> str:
    return event_key(frame["event"], frame["occurred_at"], frame["data"])


@dataclass
class Verdict:
    expected: int = 0
    received: int = 0
    lost: list[str] = field(default_factory=list)
    excused_by_resync: int = 0
    duplicated: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.out_of_order)


def verdict_totals(verdicts: list[Verdict]) -> dict[str, int]:
    """The sockets' verdicts added up, as a drill records them."""
    return {
        "events": sum(v.expected for v in verdicts),
        "lost": sum(len(v.lost) for v in verdicts),
        "resynced": sum(v.excused_by_resync for v in verdicts),
        "duplicated": sum(len(v.duplicated) for v in verdicts),
        "out_of_order": sum(len(v.out_of_order) for v in verdicts),
    }


def expected_events(user: User, since_id: int) -> list[tuple[str, float]]:
    """The user's events the database recorded (outbox rows naming them), as keys with the
    time they were committed, oldest first."""
    rows = OutboxEvent.objects.filter(pk__gt=since_id, recipients__contains=[user.pk]).exclude(
        name__startswith="control."
    )
    result = []
    for row in rows.order_by("id"):
        encoded = json.loads(event_text(row))  # exactly what a frame carries
        key = event_key(encoded["event"], encoded["occurred_at"], encoded["data"])
        result.append((key, row.occurred_at.timestamp()))
    return result


def compare(socket: RecordingSocket, since_id: int) -> Verdict:
    verdict = Verdict()
    expected = expected_events(socket.user, since_id)
    verdict.expected = len(expected)
    frames = socket.events()
    verdict.received = len(frames)
    counts = Counter(frame_key(frame) for frame in frames)
    verdict.duplicated = [key for key, n in counts.items() if n > 1]
    last_resync = max(socket.resynced_at, default=0.0)
    for key, committed_at in expected:
        if key in counts:
            continue
        if committed_at <= last_resync:
            verdict.excused_by_resync += 1
        else:
            verdict.lost.append(key)
    versions: dict[int, int] = {}
    for frame in socket.frames:
        if frame["type"] == "resync":
            versions.clear()  # the client re-reads the REST API: a new baseline
            continue
        if not frame["event"].startswith("task.") or "version" not in frame["data"]["task"]:
            continue
        task = frame["data"]["task"]
        if versions.get(task["id"], 0) >= task["version"]:
            verdict.out_of_order.append(
                f"task {task['id']} v{task['version']} after v{versions[task['id']]}"
            )
        versions[task["id"]] = max(versions.get(task["id"], 0), task["version"])
    return verdict


def wait_for_delivery(sockets: list[RecordingSocket], since_id: int, timeout: float = 90) -> None:
    """Until every socket has every event the database owes it and its `resync`s do not
    excuse, and the outbox is drained (or the time is up: the verdict then names what is
    missing)."""

    def complete() -> bool:
        drained = not OutboxEvent.objects.filter(published_at__isnull=True).exists()
        return drained and all(not compare(socket, since_id).lost for socket in sockets)

    with contextlib.suppress(AssertionError):  # the verdict says what is missing
        wait_until(complete, timeout, "every socket to receive its events")


def emails_exactly_once(
    mailbox: Mailbox, since_id: int, timeout: float = 90
) -> tuple[int, list[str]]:
    """Wait until no notification waits for its (digest) email and no email is pending, then:
    every sent email reached the sink exactly once, and nothing else did. Returns (emails,
    problems)."""
    wait_until(
        lambda: (
            not Notification.objects.filter(
                email_due_at__isnull=False, read_at__isnull=True
            ).exists()
        ),
        timeout,
        "every notification's email to be made",
    )
    wait_until(
        lambda: (
            not EmailDelivery.objects.filter(
                pk__gt=since_id, status=DeliveryStatus.PENDING
            ).exists()
        ),
        timeout,
        "the email outbox to drain",
    )
    problems: list[str] = []
    deliveries = list(EmailDelivery.objects.filter(pk__gt=since_id))
    received = Counter((mail.recipients[0], mail.subject) for mail in mailbox.received)
    expected = Counter((delivery.to, delivery.subject) for delivery in deliveries)
    for delivery in deliveries:
        if delivery.status != DeliveryStatus.SENT:
            problems.append(f"email {delivery.pk} {delivery.status}: {delivery.last_error}")
    for item in received | expected:
        if received[item] != expected[item]:
            problems.append(f"{item}: sent {received[item]}, expected {expected[item]}")
    return len(deliveries), problems


@dataclass
class WriteLog:
    writes: int = 0  # writes answered (each once, whatever its retries)
    latencies: list[float] = field(default_factory=list)  # each attempt that got an answer
    answers: list[tuple[float, int]] = field(default_factory=list)  # (seconds, status) of each
    retries: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    titles: list[str] = field(default_factory=list)  # tasks the writer created
    # Each retryable answer: (status, Content-Type, Retry-After).
    refusals: list[tuple[int, str | None, str | None]] = field(default_factory=list)


class Writer:
    """Writes through the API like a careful client: creates and assignment PATCHes, each
    retried with its `Idempotency-Key` until answered (connection errors, 502/503/504).

    With a `description`, every write also sets the task's description to it (numbered, so each
    is a change): events then carry long previews of it (docs/events.md), up to three each."""

    RETRYABLE = frozenset({502, 503, 504})

    def __init__(
        self,
        stack: DrillStack,
        team_id: int,
        users: list[User],
        tag: str,
        description: str | None = None,
    ) -> None:
        self.stack = stack
        self.team_id = team_id
        self.users = users
        self.tag = tag
        self.description = description
        self.log = WriteLog()
        self.created: list[int] = []
        self.client = httpx.Client(
            headers={"Authorization": f"Bearer {token(users[0])}"}, timeout=30
        )
        stack.cleanup(self.client.close)

    def _send(self, method: str, path: str, body: dict[str, Any], key: str) -> httpx.Response:
        deadline = time.monotonic() + 90
        while True:
            started = time.perf_counter()
            try:
                response = self.client.request(
                    method, f"{self.stack.api}{path}", json=body, headers={"Idempotency-Key": key}
                )
            except httpx.TransportError:
                pass
            else:
                self.log.latencies.append(time.perf_counter() - started)
                self.log.answers.append((self.log.latencies[-1], response.status_code))
                self.log.statuses[response.status_code] += 1
                if response.status_code not in self.RETRYABLE:
                    self.log.writes += 1
                    return response
                self.log.refusals.append(
                    (
                        response.status_code,
                        response.headers.get("Content-Type"),
                        response.headers.get("Retry-After"),
                    )
                )
            assert time.monotonic() < deadline, f"{method} {path} never answered"
            self.log.retries += 1
            time.sleep(0.2)

    def _described(self, body: dict[str, Any], label: str) -> dict[str, Any]:
        if self.description is not None:
            body["description"] = f"{label} {self.description}"
        return body

    def write(self, n: int) -> None:
        key = f"{self.tag}-{n}"
        if n % 2 == 0 or not self.created:
            title = f"{self.tag} {n}"
            body = self._described({"team": self.team_id, "title": title}, str(n))
            response = self._send("POST", "/api/v1/tasks/", body, key)
            assert response.status_code == 201, response.text
            self.created.append(response.json()["id"])
            self.log.titles.append(title)
        else:
            task = self.created[(n // 2) % len(self.created)]
            assignee = self.users[1 + n % (len(self.users) - 1)].pk
            body = self._described({"assignee": assignee}, str(n))
            response = self._send("PATCH", f"/api/v1/tasks/{task}/", body, key)
            assert response.status_code == 200, response.text

    def redescribe(self, n: int) -> None:
        """Only a new description (no notification, no email): the biggest event per write."""
        assert self.description is not None
        assert self.created
        task = self.created[n % len(self.created)]
        body = self._described({}, f"d{n}")
        response = self._send("PATCH", f"/api/v1/tasks/{task}/", body, f"{self.tag}-d{n}")
        assert response.status_code == 200, response.text
