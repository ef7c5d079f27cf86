"""`GET /health`: 200 when Redis answers (503 otherwise), with this process's open sockets."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from redis import exceptions as redis_errors

from taskflow_realtime.deps import HubDep, RedisDep

router = APIRouter()


@router.get("/health")
async def health(redis: RedisDep, hub: HubDep) -> JSONResponse:
    try:
        redis_ok = bool(await asyncio.wait_for(redis.ping(), timeout=1.0))
    except (redis_errors.RedisError, TimeoutError, OSError):
        redis_ok = False
    return JSONResponse(
        {
            "status": "ok" if redis_ok else "unavailable",
            "redis": "ok" if redis_ok else "unreachable",
            "connections": hub.connection_count,
        },
        status_code=200 if redis_ok else 503,
    )
