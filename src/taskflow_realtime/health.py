"""`GET /health`: 200 when Redis answers (503 otherwise), with this process's open sockets
and replay counters."""

from __future__ import annotations

import asyncio
import dataclasses

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from redis import exceptions as redis_errors

from taskflow_realtime.deps import HubDep, RedisDep, StreamDep

router = APIRouter()


@router.get("/health")
async def health(redis: RedisDep, hub: HubDep, stream: StreamDep) -> JSONResponse:
    try:
        redis_ok = bool(await asyncio.wait_for(redis.ping(), timeout=1.0))
    except (redis_errors.RedisError, TimeoutError, OSError):
        redis_ok = False
    return JSONResponse(
        {
            "status": "ok" if redis_ok else "unavailable",
            "redis": "ok" if redis_ok else "unreachable",
            "connections": hub.connection_count,
            # Since start: replays asked for, answered with `resync`, and the Redis entries
            # (index and stream) they read; docs/events.md "Replay".
            "replay": dataclasses.asdict(stream.stats),
        },
        status_code=200 if redis_ok else 503,
    )
