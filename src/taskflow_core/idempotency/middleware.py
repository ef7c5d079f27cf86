"""`Idempotency-Key` on POST requests under /api/ (docs/api.md, "Retries").

A client that did not get an answer (a timeout, a 502 from the gateway while the core was
restarting) may send the same POST again with the same key: within 24 h it gets the first
response (status and body, with `Idempotent-Replayed: true`) and nothing is done twice. The
request and its record are one transaction (this middleware wraps the view in it), so the work
and the stored answer are committed together or not at all.

Keys are per user: an authenticated request's key is looked up among that user's keys only.
Anonymous POSTs (register, token, refresh, logout) accept the header and ignore it.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import cast

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.settings import api_settings

from taskflow_core.common.database_errors import database_unavailable
from taskflow_core.idempotency.models import IdempotencyRecord
from taskflow_core.idempotency.services import (
    KeyBusy,
    KeyReused,
    TooManyKeys,
    idempotency_claim,
    idempotency_complete,
    idempotency_release,
)

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, like a UUID or a ULID
NOT_REPLAYED = {429}  # "try later" is not the outcome of the request
MAX_STORED_BODY = 1024 * 1024


def fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def request_user_id(request: HttpRequest) -> int | None:
    """The user the API will authenticate (the same classes DRF uses), or None."""
    drf_request = Request(request)
    classes = cast(list[type[BaseAuthentication]], api_settings.DEFAULT_AUTHENTICATION_CLASSES)
    for authentication_class in classes:
        try:
            result = authentication_class().authenticate(drf_request)
        except APIException:
            return None  # the view answers 401
        if result is not None:
            return int(result[0].pk)
    return None


def _error(status: int, body: dict[str, object]) -> JsonResponse:
    return JsonResponse(body, status=status)


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body), status=record.status_code, content_type=record.content_type
    )
    response[REPLAYED_HEADER] = "true"
    return response


class IdempotencyMiddleware:
    # Tests move this clock to see a key expire.
    clock: Callable[[], datetime] = staticmethod(timezone.now)

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        if key is None or request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        if not KEY_PATTERN.fullmatch(key):
            return _error(400, {HEADER: ["1 to 255 visible ASCII characters (e.g. a UUID)."]})
        try:
            request_fingerprint = fingerprint(request)
        except RequestDataTooBig:
            return self.get_response(request)  # refused as too large by the usual path
        try:
            user_id = request_user_id(request)
            if user_id is None:
                return self.get_response(request)
            return self._once(request, user_id, key, request_fingerprint)
        except (OperationalError, InterfaceError) as error:
            logger.warning("idempotency: database unavailable (%s)", error)
            return database_unavailable()

    def _once(self, request: HttpRequest, user_id: int, key: str, print_: str) -> HttpResponse:
        try:
            with transaction.atomic():
                claim = idempotency_claim(
                    user_id=user_id, key=key, fingerprint=print_, now=self.clock()
                )
                if claim.replay:
                    return _replay(claim.record)
                response = self.get_response(request)
                status = response.status_code
                if status >= 500:
                    transaction.set_rollback(True)  # nothing half-done stays; a retry redoes it
                elif (
                    status in NOT_REPLAYED
                    or response.streaming
                    or len(response.content) > MAX_STORED_BODY
                ):
                    idempotency_release(record=claim.record)
                else:
                    idempotency_complete(
                        record=claim.record,
                        status_code=status,
                        content_type=response.get("Content-Type", "application/json"),
                        body=response.content,
                    )
                return response
        except KeyReused:
            return _error(
                422,
                {HEADER: ["This key was already used with a different request; use a new key."]},
            )
        except KeyBusy:
            return _error(409, {"detail": "A request with this Idempotency-Key is in progress."})
        except TooManyKeys:
            response = _error(429, {"detail": "Too many Idempotency-Keys in 24 hours."})
            response["Retry-After"] = "3600"
            return response
