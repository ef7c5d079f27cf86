"""Sockets obey a revocation (docs/events.md, "Control entries"): a `revoke` control entry on the
stream closes, within a second, the user's sockets whose token was issued before its cut-off,
on every process; at `auth`, a token issued before the cut-off in `<stream>:revoked:<user>` is
refused. The entries are written here as the core's publisher writes them (tests/identity
covers the core side; tests/gateway/test_revocation_end_to_end.py the whole chain)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis

from taskflow_core.accounts.models import User
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team
from taskflow_events.codec import encode_control
from taskflow_events.control import Revoke
from tests.realtime.client import SocketClient
from tests.realtime.conftest import Realtime, access_token

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def issued(user: User, at: int) -> str:
    return access_token(user, iat=at)


def publish_revoke(stream_redis: redis.Redis, stream: str, user: User, before: int) -> float:
    """The core's publisher: the cut-off key, and the control entry (no recipients)."""
    stream_redis.set(f"{stream}:revoked:{user.pk}", before, ex=900)
    sent_at = time.monotonic()
    stream_redis.xadd(stream, {"r": "", "c": encode_control(Revoke(user=user.pk, before=before))})
    return sent_at


def closed_within(socket: SocketClient, code: int, since: float) -> float:
    socket.expect_close(code, timeout=20)
    return time.monotonic() - since


def test_a_revoke_entry_closes_the_users_older_sockets_on_every_process_within_a_second(
    start_realtime: Callable[..., Realtime],
    event_stream: str,
    stream_redis: redis.Redis,
    team: Team,
    alice: User,
    bob: User,
) -> None:
    first, second = start_realtime(), start_realtime()
    now = int(time.time())
    with (
        first.client() as old_on_first,
        second.client() as old_on_second,
        first.client() as newer,
        second.client() as bobs,
    ):
        old_on_first.auth(issued(alice, now - 60))
        old_on_second.auth(issued(alice, now - 30))
        newer.auth(issued(alice, now))
        bobs.auth(access_token(bob))
        sent_at = publish_revoke(stream_redis, event_stream, alice, before=now)
        assert closed_within(old_on_first, 4401, sent_at) < 1.0
        assert closed_within(old_on_second, 4401, sent_at) < 1.0
        # A token issued at the cut-off or later, and other users, are untouched.
        task_create(team=team, actor=bob, title="after the revocation")
        for socket in (newer, bobs):
            [frame] = socket.events(1)
            assert frame["data"]["task"]["title"] == "after the revocation"
        first.wait_for_connections(1)
        second.wait_for_connections(1)


def test_a_token_issued_before_the_cut_off_is_refused_at_auth_and_at_re_auth(
    realtime: Realtime, event_stream: str, stream_redis: redis.Redis, alice: User
) -> None:
    now = int(time.time())
    with realtime.client() as open_before:
        open_before.auth(issued(alice, now))
        stream_redis.set(f"{event_stream}:revoked:{alice.pk}", now, ex=900)
        with realtime.client() as refused:
            refused.send({"type": "auth", "token": issued(alice, now - 1)})
            refused.expect_close(4401)
        with realtime.client() as accepted:
            assert accepted.auth(issued(alice, now))["user"] == alice.pk
        # An open socket that re-authenticates with a revoked token is closed too.
        open_before.send({"type": "auth", "token": issued(alice, now - 1)})
        open_before.expect_close(4401)
