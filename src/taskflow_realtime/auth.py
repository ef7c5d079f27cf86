"""Access-token verification with the public key only: no database, no network.

A token that verified once is remembered (by its exact text, up to `CACHE_SIZE` of them) until it
expires: a client that reconnects, or floods `/ws` with the same token, costs a dict lookup and
an `exp` check instead of a signature check and two JSON decodes each time. Only successes are
remembered, and the text is the signed token itself, so nothing can be forged through the cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key


class InvalidToken(Exception):
    """Bad signature, wrong algorithm, expired, not an access token, or malformed."""


class ExpiredToken(InvalidToken):
    """A genuine access token past its `exp`: the client should refresh it."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    expires_at: float  # unix time
    issued_at: int  # unix seconds: a revocation refuses tokens issued before its cut-off


CACHE_SIZE = 4096  # verified tokens remembered (each a few hundred bytes)


class TokenVerifier:
    def __init__(self, public_key_pem: str, cache_size: int = CACHE_SIZE) -> None:
        key = load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, RSAPublicKey):
            raise ValueError("JWT_PUBLIC_KEY must be an RSA public key (tokens are RS256).")
        self._key = key
        self._cache_size = cache_size
        self._verified: dict[str, AccessClaims] = {}  # insertion order: oldest first

    def verify(self, token: str) -> AccessClaims:
        claims = self._verified.get(token)
        if claims is not None:
            if claims.expires_at <= time.time():
                del self._verified[token]
                raise ExpiredToken("expired")
            return claims
        claims = self._verify(token)
        if len(self._verified) >= self._cache_size:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            # Only RS256: `alg: none` and HMAC-with-the-public-key forgeries fail here.
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["RS256"],
                options={"require": ["exp", "iat", "user_id", "token_type"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise ExpiredToken("expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from exc
        if claims["token_type"] != "access":
            raise InvalidToken("not an access token")
        try:
            user_id = int(claims["user_id"])  # simplejwt writes it as a string
        except (TypeError, ValueError) as exc:
            raise InvalidToken("bad user_id") from exc
        return AccessClaims(
            user_id=user_id, expires_at=float(claims["exp"]), issued_at=int(claims["iat"])
        )
