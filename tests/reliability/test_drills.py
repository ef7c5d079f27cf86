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
from tests.reliability.conftest import percentile
from tests.reliability.harness import (
    DrillStack,
    RecordingSocket,
    Writer,
    compare,
    drill_stack,
    emails_exactly_once,
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
    team, users = crew
    since_event, since_email = last_id(OutboxEvent), last_id(EmailDelivery)
    with drill_stack(tmp_path, drill_stream) as stack:
        sockets = [RecordingSocket(stack.ws_url, user) for user in users]
        for socket in sockets:
            stack.cleanup(socket.close)
            socket.wait_ready()
        writer = Writer(stack, team.pk, users, tag=f"{name}-{drill_stream[-6:]}")
        recover: Callable[[], None] = lambda: None  # noqa: E731
        for n in range(WRITES):
            if n == FAULT_AT:
                recover = DRILLS[name](stack, sockets)
            if n == RECOVER_AT:
                recover()
            writer.write(n)

        wait_for_delivery(sockets, since_event)
        verdicts = [compare(socket, since_event) for socket in sockets]
        emails, problems = emails_exactly_once(stack.mailbox, since_email)
        titles = Counter(
            Task.objects.filter(title__in=writer.log.titles).values_list("title", flat=True)
        )
        record_drill(
            name,
            writes=WRITES,
            retries=writer.log.retries,
            statuses=dict(writer.log.statuses),
            p99_ms=round(percentile(writer.log.latencies, 0.99) * 1000, 1),
            events=sum(v.expected for v in verdicts),
            lost=sum(len(v.lost) for v in verdicts),
            resynced=sum(v.excused_by_resync for v in verdicts),
            duplicated=sum(len(v.duplicated) for v in verdicts),
            out_of_order=sum(len(v.out_of_order) for v in verdicts),
            emails=emails,
            email_problems=len(problems),
            tasks_created_twice=sum(1 for count in titles.values() if count > 1),
        )
        assert all(v.ok for v in verdicts), ([v for v in verdicts if not v.ok], stack.logs())
        assert problems == [], (problems, stack.logs())
        assert titles == Counter(writer.log.titles), "a write was done twice or not at all"
        assert 500 not in writer.log.statuses
