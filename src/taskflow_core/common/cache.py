"""The Redis cache, bounded and failing open (docs/reliability.md).

Django's `RedisCache` waits as long as redis-py does (retries included) and raises when Redis is
away, which would turn a throttled endpoint into a slow 500 during a Redis outage. This backend
asks the request's `RedisGuard` first, runs each command with the guard's timeouts and no
retries, and when Redis cannot answer it behaves as an empty cache that forgets writes: a
throttle that cannot count lets the request through, and says so in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

import redis
from django.core.cache.backends.redis import RedisCache
from redis.backoff import NoBackoff
from redis.retry import Retry

from taskflow_core.common.redis_guard import redis_guard

logger = logging.getLogger(__name__)

T = TypeVar("T")


class BoundedRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS", {}))
        options.setdefault("socket_timeout", redis_guard.op_timeout)
        options.setdefault("socket_connect_timeout", redis_guard.op_timeout)
        options.setdefault("retry", Retry(NoBackoff(), 0))
        super().__init__(server, {**params, "OPTIONS": options})

    def _bounded(self, what: str, call: Callable[[], T], fallback: T) -> T:
        if not redis_guard.permits():
            logger.warning("cache %s skipped: Redis is not answering in time", what)
            return fallback
        try:
            with redis_guard.waiting():
                return call()
        except redis.RedisError as error:
            redis_guard.failed(f"cache {what}", error)
            return fallback

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._bounded(
            "get", lambda: super(BoundedRedisCache, self).get(key, default, version), default
        )

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        kwargs: dict[str, Any] = {"version": version}
        if timeout is not None:
            kwargs["timeout"] = timeout
        self._bounded("set", lambda: super(BoundedRedisCache, self).set(key, value, **kwargs), None)

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        kwargs: dict[str, Any] = {"version": version}
        if timeout is not None:
            kwargs["timeout"] = timeout
        return self._bounded(
            "add", lambda: super(BoundedRedisCache, self).add(key, value, **kwargs), False
        )

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._bounded(
            "delete", lambda: super(BoundedRedisCache, self).delete(key, version), False
        )

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A missing counter raises ValueError in Django; an unreachable one counts as zero.
        return self._bounded(
            "incr", lambda: super(BoundedRedisCache, self).incr(key, delta, version), 0
        )

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._bounded(
            "get_many", lambda: super(BoundedRedisCache, self).get_many(keys, version), {}
        )

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._bounded(
            "has_key", lambda: super(BoundedRedisCache, self).has_key(key, version), False
        )

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        kwargs: dict[str, Any] = {"version": version}
        if timeout is not None:
            kwargs["timeout"] = timeout
        return self._bounded(
            "touch", lambda: super(BoundedRedisCache, self).touch(key, **kwargs), False
        )
