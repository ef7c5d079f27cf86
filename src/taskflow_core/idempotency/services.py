"""Claiming an `Idempotency-Key` and recording the response it got (docs/api.md, "Retries").

Both run inside the request's transaction (see `middleware.py`), so a key is stored exactly
when the work it guards is committed. A concurrent request with the same key waits on the
unique index until the first one commits (then it replays its response) or rolls back (then it
does the work itself); it waits at most `TASKFLOW_IDEMPOTENCY_WAIT_MS`, then gets 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction

from taskflow_core.idempotency.models import IdempotencyRecord

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout expires


class KeyReused(Exception):
    """The key was used (within 24 h) for a different request."""


class KeyBusy(Exception):
    """A request with this key is still running."""


class TooManyKeys(Exception):
    """The user has more live keys than `TASKFLOW_IDEMPOTENCY_MAX_KEYS_PER_USER`."""


@dataclass(frozen=True)
class Claim:
    record: IdempotencyRecord
    replay: bool  # True: the request was done before; answer with the stored response


def _decide(record: IdempotencyRecord, fingerprint: str) -> Claim:
    if record.fingerprint != fingerprint:
        raise KeyReused
    return Claim(record, replay=True)


def _set_lock_timeout(milliseconds: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{milliseconds}ms"])


def idempotency_claim(*, user_id: int, key: str, fingerprint: str, now: datetime) -> Claim:
    """In the caller's transaction: the stored outcome of this key, or a fresh record that
    `idempotency_complete` fills in once the request is answered."""
    existing = IdempotencyRecord.objects.filter(user_id=user_id, key=key).first()
    if existing is not None:
        if existing.expires_at > now:
            return _decide(existing, fingerprint)
        existing.delete()
    live = IdempotencyRecord.objects.filter(user_id=user_id, expires_at__gt=now).count()
    if live >= settings.TASKFLOW_IDEMPOTENCY_MAX_KEYS_PER_USER:
        raise TooManyKeys
    ttl = timedelta(seconds=settings.TASKFLOW_IDEMPOTENCY_TTL_SECONDS)
    _set_lock_timeout(settings.TASKFLOW_IDEMPOTENCY_WAIT_MS)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user_id=user_id,
                key=key,
                fingerprint=fingerprint,
                status_code=0,
                content_type="",
                body=b"",
                created_at=now,
                expires_at=now + ttl,
            )
    except IntegrityError:  # a concurrent request with this key committed while we waited
        return _decide(IdempotencyRecord.objects.get(user_id=user_id, key=key), fingerprint)
    except OperationalError as error:
        if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise KeyBusy from error
        raise
    finally:
        _set_lock_timeout(0)
    return Claim(record, replay=False)


def idempotency_complete(
    *, record: IdempotencyRecord, status_code: int, content_type: str, body: bytes
) -> None:
    record.status_code = status_code
    record.content_type = content_type[:100]
    record.body = body
    record.save(update_fields=["status_code", "content_type", "body"])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """The response is not one to replay (429, or too big): the key is free again."""
    record.delete()


def idempotency_prune(*, now: datetime) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now).delete()
    return deleted
