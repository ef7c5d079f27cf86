"""Where every domain event is born: written to the outbox inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.common.inserts import insert
from taskflow_core.events.models import OutboxEvent
from taskflow_core.events.publishing import publish_after_commit, publish_many_after_commit


def actor_payload(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "username": user.username}


def outbox_event(
    *,
    name: str,
    team_id: int | None,
    actor: User | None,
    data: dict[str, Any],
    recipients: Iterable[int],
) -> OutboxEvent:
    """The outbox row of event `name` for `recipients`, not written yet."""
    return OutboxEvent(
        name=name,
        team_id=team_id,
        actor=actor_payload(actor),
        data=data,
        recipients=sorted(set(recipients)),
        occurred_at=timezone.now(),
    )


def publish_on_commit(event: OutboxEvent) -> None:
    """Publish the written `event` once its transaction commits (at once, in autocommit)."""
    transaction.on_commit(lambda: publish_after_commit(event))


def event_emit(
    *,
    name: str,
    team_id: int | None,
    actor: User | None,
    data: dict[str, Any],
    recipients: Iterable[int],
) -> OutboxEvent:
    """Record `name` for `recipients`; it is published only if the transaction commits."""
    event = outbox_event(name=name, team_id=team_id, actor=actor, data=data, recipients=recipients)
    insert(event)
    publish_on_commit(event)
    return event


def events_emit(
    *,
    name: str,
    team_id: int | None,
    actor: User | None,
    datas: Iterable[dict[str, Any]],
    recipients: Iterable[int],
) -> list[OutboxEvent]:
    """`event_emit` for many events of one kind at once (one INSERT, published together after
    commit, in order): a bulk change still tells every socket about every row it changed."""
    occurred_at = timezone.now()
    actor_data = actor_payload(actor)
    members = sorted(set(recipients))
    events = OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                name=name,
                team_id=team_id,
                actor=actor_data,
                data=data,
                recipients=members,
                occurred_at=occurred_at,
            )
            for data in datas
        ],
        batch_size=500,
    )
    if events:
        transaction.on_commit(lambda: publish_many_after_commit(events))
    return events
