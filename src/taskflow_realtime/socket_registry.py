"""Every realtime process's open sockets, per user, in Redis: the per-user socket cap holds
across processes, and a revoked token is refused at `auth` (docs/protocol.md, docs/events.md).

One sorted set per user, `<stream>:sockets:<user>`: a member per open socket (this process's
random id and the socket's number), scored with the time it lapses. Each process renews its
own members every `heartbeat` seconds, so the sockets of a process that crashed stop counting
within `ttl`, with nothing to clean up. Admission is one Lua call that also reads the user's
revocation cut-off, `<stream>:revoked:<user>` (set by the core's publisher with the revoke
control entry): one bounded round trip per `auth`.

Refusing is cheaper than admitting: a user who already has the cap on this process alone, or
whom Redis called full within the last `FULL_MEMO_SECONDS`, is refused here without a round trip
(a place freed on another process is seen that much later; one freed here, at once). A user
flooding `/ws` with one token then costs the handshake and a dict lookup per attempt.
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import logging
import secrets
import time
from collections.abc import Callable, Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from taskflow_events import keys

logger = logging.getLogger(__name__)

# KEYS: the user's socket set, the user's revocation key. ARGV: member, lapse after (seconds),
# the cap, the token's iat (unix seconds). The clock is Redis's, the same for every process.
ADMIT_LUA = """
local before = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[4]) < before then return 'revoked' end
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1])
    and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 'full'
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 'ok'
"""

# KEYS: socket sets. ARGV: lapse after (seconds), then for each key its members, as
# `count, member, member, ...` in KEYS order.
RENEW_LUA = """
local lapse = tonumber(redis.call('TIME')[1]) + tonumber(ARGV[1])
local at = 2
for index, key in ipairs(KEYS) do
  local count = tonumber(ARGV[at])
  for offset = 1, count do
    redis.call('ZADD', key, lapse, ARGV[at + offset])
  end
  redis.call('EXPIRE', key, ARGV[1])
  at = at + count + 1
end
return at
"""


# How long "Redis says this user is full" is believed without asking again.
FULL_MEMO_SECONDS = 1.0
FULL_MEMO_SIZE = 10_000  # users remembered as full (expired ones are dropped past this)


class Admission(enum.Enum):
    OK = "ok"
    REVOKED = "revoked"  # the token was issued before the user's revocation cut-off
    FULL = "full"  # the user already has the maximum number of sockets open


class SocketRegistry:
    def __init__(
        self,
        redis: Redis,
        stream: str,
        *,
        max_per_user: int,
        heartbeat_seconds: float,
        timeout_seconds: float = 2.0,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.max_per_user = max_per_user
        self.heartbeat_seconds = heartbeat_seconds
        # Three heartbeats may be missed (a slow loop, a Redis blip) before a socket lapses.
        self.ttl_seconds = max(1, round(3 * heartbeat_seconds))
        self.timeout_seconds = timeout_seconds
        self._process = secrets.token_hex(6)
        self._numbers = itertools.count(1)
        self._admit = redis.register_script(ADMIT_LUA)
        self._full_until: dict[int, float] = {}  # user id → monotonic time
        self._renew = redis.register_script(RENEW_LUA)

    def sockets_key(self, user_id: int) -> str:
        return keys.user_sockets_key(self.stream, user_id)

    def revoked_key(self, user_id: int) -> str:
        return keys.revoked_key(self.stream, user_id)

    def new_member(self) -> str:
        return f"{self._process}:{next(self._numbers)}"

    def full_here(self, user_id: int, open_here: int) -> bool:
        """Refuse without asking Redis: the user has the cap open on this process alone, or
        Redis answered "full" for them less than FULL_MEMO_SECONDS ago."""
        if open_here >= self.max_per_user:
            return True
        until = self._full_until.get(user_id)
        if until is None:
            return False
        if until > time.monotonic():
            return True
        del self._full_until[user_id]
        return False

    def _remember_full(self, user_id: int) -> None:
        now = time.monotonic()
        if len(self._full_until) >= FULL_MEMO_SIZE:
            self._full_until = {u: t for u, t in self._full_until.items() if t > now}
            if len(self._full_until) >= FULL_MEMO_SIZE:
                return  # that many users full at once: ask Redis for the rest
        self._full_until[user_id] = now + FULL_MEMO_SECONDS

    async def admit(self, user_id: int, member: str, issued_at: int) -> Admission:
        """Count the socket against the user's cap, unless the token is revoked or the cap
        reached. Redis unreachable: admitted (no event reaches the socket until Redis is back,
        and the gateway still caps sockets per address); logged."""
        keys = [self.sockets_key(user_id), self.revoked_key(user_id)]
        args: list[str | int] = [member, self.ttl_seconds, self.max_per_user, issued_at]
        try:
            async with asyncio.timeout(self.timeout_seconds):
                result = await self._admit(keys=keys, args=args)
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("socket registry unreachable at auth (%s); admitting", exc)
            return Admission.OK
        admission = Admission(result)
        if admission is Admission.FULL:
            self._remember_full(user_id)
        return admission

    async def is_revoked(self, user_id: int, issued_at: int) -> bool:
        """For a fresh `auth` frame on an open socket: one bounded GET."""
        try:
            async with asyncio.timeout(self.timeout_seconds):
                before = await self.redis.get(self.revoked_key(user_id))
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("revocation cut-off unreadable (%s); accepting the token", exc)
            return False
        return before is not None and issued_at < int(before)

    async def release(self, user_id: int, member: str) -> None:
        """The socket closed; if Redis cannot be told, the member lapses within `ttl`."""
        self._full_until.pop(user_id, None)  # its place is free again
        try:
            async with asyncio.timeout(self.timeout_seconds):
                await self.redis.zrem(self.sockets_key(user_id), member)
        except (RedisError, OSError, TimeoutError) as exc:
            logger.info("socket registry unreachable at close (%s); the entry will lapse", exc)

    async def renew(self, members: Iterable[tuple[int, list[str]]]) -> None:
        """Push back the lapse time of this process's open sockets, in batches of users."""
        batch: list[tuple[int, list[str]]] = []
        for user_id, user_members in members:
            batch.append((user_id, user_members))
            if len(batch) >= 500:
                await self._renew_batch(batch)
                batch = []
        if batch:
            await self._renew_batch(batch)

    async def _renew_batch(self, batch: list[tuple[int, list[str]]]) -> None:
        keys = [self.sockets_key(user_id) for user_id, _ in batch]
        args: list[str | int] = [self.ttl_seconds]
        for _, user_members in batch:
            args += [len(user_members), *user_members]
        async with asyncio.timeout(self.timeout_seconds * 5):
            await self._renew(keys=keys, args=args)

    async def keep_alive(self, members: Callable[[], Iterable[tuple[int, list[str]]]]) -> None:
        """Renew this process's sockets every `heartbeat` seconds, forever."""
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self.renew(members())
            except (RedisError, OSError, TimeoutError) as exc:
                logger.warning("could not renew the socket registry (%s)", exc)
