"""What a client frame on `/ws` is: an `auth` to accept, or a refusal with its close code and a
reason (docs/protocol.md, close codes).

4401 is for authentication only: a missing, bad or expired token. A frame that is not what the
protocol says (not JSON, not an object, an unknown `type` or field, a field of the wrong type)
is 4400, with a reason naming what is wrong, so that a client does not take its own bug for an
expired session and refresh and retry forever.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from taskflow_events.codec import decode_client_frame
from taskflow_events.frames import AuthFrame
from taskflow_realtime.auth import AccessClaims, ExpiredToken, InvalidToken, TokenVerifier
from taskflow_realtime.connection import CLOSE_BAD_FRAME, CLOSE_UNAUTHORIZED

# A close frame's reason is at most 123 bytes (RFC 6455, 5.5: 125 bytes of payload, 2 for the code).
MAX_REASON_BYTES = 123


@dataclass(frozen=True, slots=True)
class Refusal:
    code: int
    reason: str

    def __post_init__(self) -> None:
        encoded = self.reason.encode()
        if len(encoded) > MAX_REASON_BYTES:
            object.__setattr__(self, "reason", encoded[:MAX_REASON_BYTES].decode(errors="ignore"))


def malformed(reason: str) -> Refusal:
    return Refusal(CLOSE_BAD_FRAME, reason)


def unauthorized(reason: str) -> Refusal:
    return Refusal(CLOSE_UNAUTHORIZED, reason)


def _why_malformed(error: ValidationError) -> Refusal:
    problems = error.errors()
    kinds = {problem["type"] for problem in problems}
    if "json_invalid" in kinds:
        return malformed("not JSON")
    if kinds & {"model_type", "dict_type", "model_attributes_type"}:
        return malformed('expected a JSON object: {"type": "auth", "token": ...}')
    for problem in problems:
        field = ".".join(str(part) for part in problem["loc"]) or "frame"
        if problem["type"] == "missing" and field == "token":
            continue  # no token is an authentication failure, unless something else is wrong
        if problem["type"] == "extra_forbidden":
            return malformed(f"unknown field {field!r}")
        if field == "type":
            return malformed('unknown frame type: only "auth" is accepted')
        if problem["type"] == "missing":
            return malformed(f"missing field {field!r}")
        if field == "last_event_id":
            return malformed("last_event_id must be a string (an event id) or null")
        return malformed(f"{field}: {problem['msg']}")
    return unauthorized("missing token")


def authenticate(text: str, verifier: TokenVerifier) -> tuple[AuthFrame, AccessClaims] | Refusal:
    """The `auth` frame in `text` and its verified claims, or why the socket must close."""
    try:
        frame = decode_client_frame(text)
    except ValidationError as error:
        return _why_malformed(error)
    try:
        return frame, verifier.verify(frame.token)
    except ExpiredToken:
        return unauthorized("token expired")
    except InvalidToken:
        return unauthorized("invalid token")
