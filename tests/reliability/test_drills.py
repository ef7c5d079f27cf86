"""The fault drills (docs/reliability.md): the whole stack as real processes, one real fault
each, writes through the API all along, and then the comparison of what every socket received
with what the database says happened — 0 lost without `resync`, 0 duplicated, 0 out of order
within a task — every email exactly once, and every write done exactly once.

`make drills` runs them all; `make test` runs the ones marked fast.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.events.models import OutboxEvent
from taskflow_core.tasks.models import Task
from taskflow_core.teams.models import Team
from taskflow_events.payloads import DESCRIPTION_PREVIEW_CHARS
from tests.reliability.conftest import percentile
from tests.reliability.harness import (
    DrillStack,
    RecordingSocket,
    Verdict,
    Writer,
    compare,
    drill_stack,
    emails_exactly_once,
    verdict_totals,
    wait_for_delivery,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

WRITES = 30
FAULT_AT = 8  # writes before the fault
RECOVER_AT = 18  # writes before the recovery

Fault = Callable[[DrillStack, list[RecordingSocket]], Callable[[], None]]


def last_id(model: Any) -> int:
    row = model.objects.order_by("-pk").first()
    return int(row.pk) if row is not None else 0


def terminate_core_connections() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def restarting(stack: DrillStack, name: str) -> Callable[[], None]:
    def recover() -> None:
        stack.start(name)

    return recover


def redis_restarted_empty(stack: DrillStack, sockets: list[RecordingSocket]) -> Callable[[], None]:
    stack.redis.crash()

    def recover() -> None:
        stack.redis.start()

    return recover


def redis_older_snapshot(stack: DrillStack, sockets: list[RecordingSocket]) -> Callable[[], None]:
    """A snapshot, then writes one user does not see live (asleep), then Redis crashes and comes
    back from the snapshot: that user reconnects with an id from the lost history."""
    stack.redis.snapshot()
    sockets[-1].pause()

    def recover() -> None:
        time.sleep(1.5)  # the relay has published the writes since the snapshot
        stack.redis.crash()
        stack.redis.start()
        sockets[-1].resume()

    return recover


def realtime_killed(stack: DrillStack, sockets: list[RecordingSocket]) -> Callable[[], None]:
    stack.kill("realtime")
    return restarting(stack, "realtime")


def core_killed(stack: DrillStack, sockets: list[RecordingSocket]) -> Callable[[], None]:
    """Killed while the writer is mid-request (a timer), back 3 s later: the writer's requests
    fail or hang up, and it retries each with its Idempotency-Key until the core answers."""

    def kill_and_restart() -> None:
        time.sleep(0.3)
        stack.kill("core")
        time.sleep(3)
        stack.start("core")

    thread = threading.Thread(target=kill_and_restart)
    thread.start()
    return lambda: thread.join(120)


def relay_killed_redis_away(
    stack: DrillStack, sockets: list[RecordingSocket]
) -> Callable[[], None]:
    """The relay dies while Redis is away: the events written meanwhile wait in the outbox."""
    stack.kill("relay")
    stack.redis.freeze()

    def recover() -> None:
        stack.redis.thaw()
        time.sleep(1)
        stack.start("relay")

    return recover


def worker_killed(stack: DrillStack, sockets: list[RecordingSocket]) -> Callable[[], None]:
    stack.kill("worker")
    return restarting(stack, "worker")


def postgres_connections_terminated(
    stack: DrillStack, sockets: list[RecordingSocket]
) -> Callable[[], None]:
    terminate_core_connections()
    return terminate_core_connections


DRILLS: dict[str, Fault] = {
    "redis_restarted_empty": redis_restarted_empty,
    "redis_older_snapshot": redis_older_snapshot,
    "realtime_killed": realtime_killed,
    "core_killed": core_killed,
    "relay_killed_redis_away": relay_killed_redis_away,
    "worker_killed": worker_killed,
    "postgres_connections_terminated": postgres_connections_terminated,
}
FAST = {"postgres_connections_terminated"}


def verdict(
    name: str,
    stack: DrillStack,
    sockets: list[RecordingSocket],
    writer: Writer,
    since: tuple[int, int],
    record_drill: Callable[..., None],
    **figures: Any,
) -> list[Verdict]:
    """Wait for delivery, then the comparison with the database (every socket's events, every
    email, every write) recorded as the drill's figures and asserted."""
    since_event, since_email = since
    wait_for_delivery(sockets, since_event)
    verdicts = [compare(socket, since_event) for socket in sockets]
    emails, problems = emails_exactly_once(stack.mailbox, since_email)
    titles = Counter(
        Task.objects.filter(title__in=writer.log.titles).values_list("title", flat=True)
    )
    record_drill(
        name,
        writes=writer.log.writes,
        retries=writer.log.retries,
        statuses=dict(writer.log.statuses),
        p99_ms=round(percentile(writer.log.latencies, 0.99) * 1000, 1),
        slowest=[
            [round(seconds * 1000), status] for seconds, status in sorted(writer.log.answers)[-3:]
        ],
        **verdict_totals(verdicts),
        emails=emails,
        email_problems=len(problems),
        tasks_created_twice=sum(1 for count in titles.values() if count > 1),
        **figures,
    )
    assert all(v.ok for v in verdicts), ([v for v in verdicts if not v.ok], stack.logs())
    assert problems == [], (problems, stack.logs())
    assert titles == Counter(writer.log.titles), "a write was done twice or not at all"
    assert 500 not in writer.log.statuses
    # Every process came through the fault (or was started again): none died of it.
    dead = [label for label, process in stack.processes.items() if not process.alive()]
    assert dead == [], (dead, stack.logs())
    return verdicts


def run_drill(
    name: str,
    fault: Fault,
    tmp_path: Path,
    drill_stream: str,
    crew: tuple[Team, list[User]],
    record_drill: Callable[..., None],
    figures: Callable[[], dict[str, Any]] = dict,
) -> Writer:
    """One drill: the stack, four recording sockets, the writes with the fault from write
    FAULT_AT to RECOVER_AT, and the verdict (`figures()`: more to record with it). Returns the
    writer (its log) for more checks."""
    team, users = crew
    since = last_id(OutboxEvent), last_id(EmailDelivery)
    with drill_stack(tmp_path, drill_stream) as stack:
        sockets = [RecordingSocket(stack.ws_url, user) for user in users]
        for socket in sockets:
            stack.cleanup(socket.close)
            socket.wait_ready()
        writer = Writer(stack, team.pk, users, tag=f"{name}-{drill_stream[-6:]}")
        recover: Callable[[], None] = lambda: None  # noqa: E731
        for n in range(WRITES):
            if n == FAULT_AT:
                recover = fault(stack, sockets)
            if n == RECOVER_AT:
                recover()
            writer.write(n)
        verdict(name, stack, sockets, writer, since, record_drill, **figures())
    return writer


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=[
                *([] if name in FAST else [pytest.mark.drill]),
            ],
        )
        for name in DRILLS
    ],
)
def test_drill(
    name: str,
    tmp_path: Path,
    drill_stream: str,
    crew: tuple[Team, list[User]],
    record_drill: Callable[..., None],
) -> None:
    run_drill(name, DRILLS[name], tmp_path, drill_stream, crew, record_drill)


# The slow-socket drill: the realtime's send queue is 4 frames, the stalled client's receive
# buffer 4 KiB and it reads at most 2 frames ahead, and every write carries a description whose
# preview (1000 emoji, 4 KiB) appears up to three times in an event.
SLOW_QUEUE_FRAMES = "4"
SLOW_RECEIVE_BUFFER = 4096
SLOW_MAX_QUEUE = 2
BIG_DESCRIPTION = "\U0001f600" * DESCRIPTION_PREVIEW_CHARS
MAX_FILLER_WRITES = 1000  # the kernel buffers on loopback grow to megabytes


@pytest.mark.drill
def test_slow_socket(
    tmp_path: Path,
    drill_stream: str,
    crew: tuple[Team, list[User]],
    record_drill: Callable[..., None],
) -> None:
    """One of the four sockets stops reading mid-drill while big events flow: the server drops
    it (1013, or a reset after the close deadline), it reconnects with `last_event_id` and
    replays what it missed; the three others receive everything live, never held up."""
    name = "slow_socket"
    team, users = crew
    since = last_id(OutboxEvent), last_id(EmailDelivery)
    realtime_env = {"TASKFLOW_WS_SEND_QUEUE_SIZE": SLOW_QUEUE_FRAMES}
    with drill_stack(tmp_path, drill_stream, realtime_env=realtime_env) as stack:
        sockets = [RecordingSocket(stack.ws_url, user) for user in users[:-1]]
        slow = RecordingSocket(
            stack.ws_url, users[-1], receive_buffer=SLOW_RECEIVE_BUFFER, max_queue=SLOW_MAX_QUEUE
        )
        sockets.append(slow)
        for socket in sockets:
            stack.cleanup(socket.close)
            socket.wait_ready()
        writer = Writer(
            stack, team.pk, users, tag=f"{name}-{drill_stream[-6:]}", description=BIG_DESCRIPTION
        )
        fillers = 0
        for n in range(WRITES):
            if n == FAULT_AT:
                slow.stall()
            if n == RECOVER_AT:
                # Description changes (the biggest events, no email) until the server has
                # dropped the stalled socket: its kernel buffers hold a few of them.
                while stack.realtime_metric("taskflow_ws_dropped_slow_sockets_total") < 1:
                    assert fillers < MAX_FILLER_WRITES, ("never dropped", stack.logs())
                    writer.redescribe(fillers)
                    fillers += 1
                slow.unstall()
            writer.write(n)
        slow.wait_ready(sessions=2)  # it found itself closed, and reconnected
        verdict(
            name,
            stack,
            sockets,
            writer,
            since,
            record_drill,
            filler_writes=fillers,
            slow_close_codes=slow.close_codes,
            replays=stack.realtime_metric("taskflow_ws_replays_total"),
        )
        # Dropped as slow (1013), or reset when the close frame could not get past its unread
        # data (1006, no close frame): either way by the server, not by the client.
        assert slow.close_codes[:1] in ([1013], [1006]), slow.close_codes
        assert stack.realtime_metric("taskflow_ws_replays_total") >= 1
        for socket in sockets:
            assert not socket.resynced_at, f"{socket.user} got a resync instead of a replay"
        for socket in sockets[:-1]:
            assert (socket.sessions, socket.close_codes) == (1, []), "a reader was held up"
