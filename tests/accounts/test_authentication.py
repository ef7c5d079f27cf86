"""Every protected endpoint answers 401 to anything but a valid, live access token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db

# (method, path) with `{team}` and `{user}` filled in by the test; each needs a signed-in user.
PROTECTED = [
    ("get", "/api/v1/users/me/"),
    ("get", "/api/v1/users/me/preferences/"),
    ("patch", "/api/v1/users/me/preferences/"),
    ("get", "/api/v1/teams/"),
    ("post", "/api/v1/teams/"),
    ("get", "/api/v1/teams/{team}/"),
    ("get", "/api/v1/teams/{team}/members/"),
    ("post", "/api/v1/teams/{team}/members/"),
    ("delete", "/api/v1/teams/{team}/members/{user}/"),
]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(user: User) -> dict[str, object]:
    return dict(AccessToken.for_user(user).payload)


def expired_access(user: User) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def unsigned(user: User) -> str:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{b64(json.dumps(claims_for(user)).encode())}."


def hs256_with_public_key(user: User) -> str:
    """The classic algorithm-confusion forgery: HMAC keyed with the (public) verifying key."""
    public_key = str(settings.SIMPLE_JWT["VERIFYING_KEY"]).encode()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims_for(user)).encode())
    signature = hmac.new(public_key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def signed_by_another_key(user: User) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    header = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims_for(user)).encode())
    signature = key.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{body}.{b64(signature)}"


BAD_AUTHORIZATION: list[tuple[str, Callable[[User], str | None]]] = [
    ("none", lambda user: None),
    ("garbage", lambda user: "Bearer garbage"),
    ("empty bearer", lambda user: "Bearer"),
    ("three parts", lambda user: "Bearer a b"),
    ("expired", lambda user: f"Bearer {expired_access(user)}"),
    ("refresh as access", lambda user: f"Bearer {RefreshToken.for_user(user)}"),
    ("alg none", lambda user: f"Bearer {unsigned(user)}"),
    ("hs256 forgery", lambda user: f"Bearer {hs256_with_public_key(user)}"),
    ("foreign key", lambda user: f"Bearer {signed_by_another_key(user)}"),
    ("basic auth", lambda user: "Basic YWxpY2U6cGFzc3dvcmQ="),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize(
    "authorization", [make for _, make in BAD_AUTHORIZATION], ids=[n for n, _ in BAD_AUTHORIZATION]
)
def test_protected_endpoints_refuse_anything_but_a_live_access_token(
    alice: User,
    bob: User,
    team: Team,
    method: str,
    path: str,
    authorization: Callable[[User], str | None],
) -> None:
    client = APIClient()
    header = authorization(alice)
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = getattr(client, method)(path.format(team=team.pk, user=bob.pk), {}, format="json")

    assert response.status_code == 401
    assert isinstance(response.json()["detail"], str)
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_token_of_a_deleted_user_is_401(
    make_user: Callable[..., User], api: Callable[[User | None], APIClient]
) -> None:
    carol = make_user("carol")
    client = api(carol)
    carol.delete()
    assert client.get("/api/v1/users/me/").status_code == 401


def test_a_token_of_a_deactivated_user_is_401(
    make_user: Callable[..., User], api: Callable[[User | None], APIClient]
) -> None:
    carol = make_user("carol")
    client = api(carol)
    carol.is_active = False
    carol.save()
    assert client.get("/api/v1/users/me/").status_code == 401


def test_the_signing_key_is_asymmetric() -> None:
    """Realtime gets only the public key: it can verify tokens but never mint them."""
    assert settings.SIMPLE_JWT["ALGORITHM"] == "RS256"
    assert "PRIVATE KEY" not in str(settings.SIMPLE_JWT["VERIFYING_KEY"])
