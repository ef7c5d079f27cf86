"""A Content-Security-Policy on every HTML page the core serves (admin, API docs).

Scripts and styles come from this origin only; no inline script runs (the Swagger UI page loads
its init script from a URL: drf-spectacular's split view). Inline `<style>` blocks and style
attributes are allowed: the admin and Swagger UI use them, and styles cannot run code. When the
Swagger UI assets come from a CDN (`SWAGGER_UI_DIST` set to a URL) the docs page, and only it,
may load them from that origin.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from drf_spectacular.settings import spectacular_settings

DOCS_PREFIX = "/api/docs/"


def _policy(extra_origin: str = "") -> str:
    extra = f" {extra_origin}" if extra_origin else ""
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self'{extra}",
            f"style-src 'self' 'unsafe-inline'{extra}",
            f"img-src 'self' data:{extra}",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _swagger_origin() -> str:
    dist = str(spectacular_settings.SWAGGER_UI_DIST)  # a URL, or "SIDECAR" (local files)
    parts = urlsplit(dist)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else ""


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.page_policy = _policy()
        self.docs_policy = _policy(_swagger_origin())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            policy = self.docs_policy if request.path.startswith(DOCS_PREFIX) else self.page_policy
            response.headers.setdefault("Content-Security-Policy", policy)
        return response
