"""Access-token verification with the public key only: no database, no network."""

from __future__ import annotations

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


class TokenVerifier:
    def __init__(self, public_key_pem: str) -> None:
        key = load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, RSAPublicKey):
            raise ValueError("JWT_PUBLIC_KEY must be an RSA public key (tokens are RS256).")
        self._key = key

    def verify(self, token: str) -> AccessClaims:
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
