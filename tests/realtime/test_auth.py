"""Socket authentication: only a valid access token opens the event feed. A missing, bad or
expired token closes with 4401; a frame that breaks the protocol closes with 4400, with a reason
saying what is wrong (so that a client does not take its bug for an expired session)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from taskflow_core.accounts.models import User
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team
from taskflow_realtime.auth import ExpiredToken, InvalidToken, TokenVerifier
from tests.realtime.conftest import Realtime, access_token

pytestmark = pytest.mark.django_db(transaction=True)


def public_key() -> str:
    inline = os.environ.get("JWT_PUBLIC_KEY")
    return inline if inline else Path(os.environ["JWT_PUBLIC_KEY_FILE"]).read_text()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(user: User) -> str:
    claims = {"token_type": "access", "user_id": str(user.pk), "exp": int(time.time()) + 300}
    return jwt.encode(claims, key="", algorithm="none")


def tampered(user: User, other: User) -> str:
    header, payload, signature = access_token(user).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["user_id"] = str(other.pk)
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


def hmac_with_public_key(user: User) -> str:
    """The classic key-confusion forgery: HS256 'signed' with the public key."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"token_type": "access", "user_id": str(user.pk), "exp": int(time.time()) + 300}
    payload = b64(json.dumps(claims).encode())
    mac = hmac.new(public_key().encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64(mac.digest())}"


def bad_tokens(alice: User, bob: User) -> dict[str, str]:
    return {
        "garbage": "not-a-jwt",
        "tampered": tampered(alice, bob),
        "alg none": unsigned(alice),
        "hs256 with the public key": hmac_with_public_key(alice),
        "expired": access_token(alice, lifetime=timedelta(seconds=-30)),
        "refresh": str(RefreshToken.for_user(alice)),
    }


def test_the_verifier_accepts_an_access_token_and_nothing_else(alice: User, bob: User) -> None:
    verifier = TokenVerifier(public_key())
    claims = verifier.verify(access_token(alice))
    assert claims.user_id == alice.pk
    assert claims.expires_at > time.time()
    accepted = []
    for name, token in bad_tokens(alice, bob).items():
        try:
            verifier.verify(token)
        except InvalidToken:
            continue
        accepted.append(name)
    assert accepted == []


@pytest.mark.integration
def test_bad_tokens_are_closed_with_4401(realtime: Realtime, alice: User, bob: User) -> None:
    for token in bad_tokens(alice, bob).values():
        with realtime.client() as client:
            client.send({"type": "auth", "token": token, "last_event_id": None})
            client.expect_close(4401)
    with realtime.client() as client:
        client.send('{"type": "auth"}')
        client.expect_close(4401, reason="missing token")
    with realtime.client() as client:
        client.send({"type": "auth", "token": "not-a-jwt", "last_event_id": None})
        client.expect_close(4401, reason="invalid token")
    with realtime.client() as client:
        expired = access_token(alice, lifetime=timedelta(seconds=-30))
        client.send({"type": "auth", "token": expired, "last_event_id": None})
        client.expect_close(4401, reason="token expired")
    assert realtime.health().json()["connections"] == 0


def malformed_frames(token: str) -> dict[str, str]:
    """A first frame that breaks the protocol, with a valid token where one fits, and the
    reason the server gives."""
    auth = {"type": "auth", "token": token, "last_event_id": None}
    return {
        "{not json": "not JSON",
        "[1, 2]": 'expected a JSON object: {"type": "auth", "token": ...}',
        json.dumps({**auth, "type": "subscribe"}): 'unknown frame type: only "auth" is accepted',
        json.dumps({"type": "hello"}): 'unknown frame type: only "auth" is accepted',
        json.dumps({**auth, "room": "general"}): "unknown field 'room'",
        json.dumps({**auth, "last_event_id": 42}): (
            "last_event_id must be a string (an event id) or null"
        ),
        json.dumps({**auth, "token": 123}): "token: Input should be a valid string",
    }


@pytest.mark.integration
def test_malformed_frames_are_closed_with_4400_and_a_reason(
    realtime: Realtime, alice: User
) -> None:
    for frame, reason in malformed_frames(access_token(alice)).items():
        with realtime.client() as client:
            client.send(frame)
            client.expect_close(4400, reason=reason)
    with realtime.client() as client:
        client.send_bytes(b'{"type": "auth"}')
        client.expect_close(4400, reason="text frames only")
    # After `ready` too: a broken frame is 4400, a token of another user 4401.
    with realtime.client() as client:
        client.auth(access_token(alice))
        client.send({"type": "auth", "token": access_token(alice), "last_event_id": 7})
        client.expect_close(4400, reason="last_event_id must be a string (an event id) or null")
    assert realtime.health().json()["connections"] == 0


@pytest.mark.integration
def test_no_auth_frame_in_time_is_closed_with_4401(
    start_realtime: Callable[..., Realtime],
) -> None:
    realtime = start_realtime(TASKFLOW_WS_AUTH_TIMEOUT_SECONDS="1")
    with realtime.client() as client:
        client.expect_close(4401, timeout=20, reason="no auth frame within 1 s")


@pytest.mark.integration
def test_an_expiring_token_closes_the_socket_unless_refreshed(
    realtime: Realtime, team: Team, alice: User, bob: User
) -> None:
    with realtime.client() as expiring, realtime.client() as refreshed:
        expiring.auth(access_token(alice, lifetime=timedelta(seconds=3)))
        refreshed.auth(access_token(bob, lifetime=timedelta(seconds=3)))
        refreshed.send({"type": "auth", "token": access_token(bob), "last_event_id": None})
        expiring.expect_close(4401, timeout=30)
        # The refreshed socket outlives its first token and still gets events.
        time.sleep(1.5)
        task_create(team=team, actor=alice, title="after expiry")
        [event] = refreshed.events(1)
        assert event["event"] == "task.created"


@pytest.mark.integration
def test_a_refresh_for_another_user_is_refused(realtime: Realtime, alice: User, bob: User) -> None:
    with realtime.client() as client:
        client.auth(access_token(alice))
        client.send({"type": "auth", "token": access_token(bob), "last_event_id": None})
        client.expect_close(4401, reason="a token of another user")


def test_a_remembered_token_still_expires_and_the_memory_is_bounded(alice: User) -> None:
    verifier = TokenVerifier(public_key(), cache_size=2)
    short = access_token(alice, lifetime=timedelta(seconds=1))
    assert verifier.verify(short).user_id == alice.pk
    assert verifier.verify(short).user_id == alice.pk  # remembered
    time.sleep(1.1)
    with pytest.raises(ExpiredToken):
        verifier.verify(short)  # remembered, but past its `exp` all the same
    tokens = [access_token(alice, jti=f"t{n}") for n in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier._verified) == 2
    with pytest.raises(InvalidToken):  # a tampered copy of a remembered token is not it
        verifier.verify(tokens[-1][:-2] + ("AA" if not tokens[-1].endswith("AA") else "BB"))
