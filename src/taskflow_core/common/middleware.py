"""Every response under `/api/` is JSON, whatever the settings (docs/api.md, "Errors").

DRF shapes the errors of its own views. What happens outside them — no URL matched, a body
over the limit, a crash in DEBUG mode, Django's trailing-slash redirect (a POST to
`/api/v1/teams` is a RuntimeError under DEBUG and a bodiless 301 otherwise) — is answered here
with the same `{"detail": "..."}` shape. The admin and the HTML API docs are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.common import CommonMiddleware
from django.urls import is_valid_path

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
HTML_UNDER_API = ("/api/docs/",)  # Swagger UI: a page for people, not an API response


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX) and not path.startswith(HTML_UNDER_API)


class SlashlessApiCommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware without APPEND_SLASH redirects under `/api/`: a redirect
    cannot carry a POST body; the JSON 404 below names the right path instead."""

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.path.startswith(API_PREFIX):
            return False
        return bool(super().should_redirect_with_slash(request))


def _json(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class ApiJsonMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_path(request.path):
            return self.get_response(request)
        limit = settings.TASKFLOW_MAX_BODY_BYTES
        if _declared_length(request) > limit:
            return _json(413, f"Request body too large (limit {limit} bytes).")
        return self._as_json(request, self.get_response(request))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        # Under DEBUG Django would render its HTML traceback page; the API never does.
        if not is_api_path(request.path):
            return None
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return _json(500, "Server error.")

    def _as_json(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        status = response.status_code
        if status == 404 and _slash_would_match(request):
            return _json(404, f"Not found. API paths end with a slash: {request.path}/")
        content_type = response.get("Content-Type", "")
        if status < 300 or status == 304 or content_type.startswith("application/json"):
            return response
        try:
            detail = HTTPStatus(status).phrase + "."
        except ValueError:
            detail = "Error."
        replacement = _json(status, detail)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                replacement[header] = response[header]
        return replacement


def _slash_would_match(request: HttpRequest) -> bool:
    if request.path_info.endswith("/"):
        return False
    return bool(is_valid_path(f"{request.path_info}/", getattr(request, "urlconf", None)))
