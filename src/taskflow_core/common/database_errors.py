"""The database is unavailable: a JSON 503 with `Retry-After`, never a 500 (docs/api.md).

A connection PostgreSQL dropped (a restart, `pg_terminate_backend`, a failover) is caught before
use by `CONN_HEALTH_CHECKS`; what still fails — PostgreSQL down or unreachable, a connection
lost mid-request — raises `OperationalError`/`InterfaceError` from the view. This middleware is
last in `MIDDLEWARE`, so its `process_exception` runs before any other and before Django's
DEBUG page, and it closes the broken connection so that the next request opens a fresh one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5


def database_unavailable() -> JsonResponse:
    response = JsonResponse(
        {"detail": "The database is unavailable; try again shortly."}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning(
            "database unavailable on %s %s (%s: %s); answered 503",
            request.method,
            request.path,
            type(exception).__name__,
            exception,
        )
        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        return database_unavailable()
