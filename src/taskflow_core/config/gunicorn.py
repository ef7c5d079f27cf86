"""gunicorn settings for the core, the same wherever it runs (`make run`, the Docker image,
tests, benchmarks): `gunicorn -c python:taskflow_core.config.gunicorn taskflow_core.config.wsgi`.

Each worker, once the app is loaded, imports every view and then freezes its heap
(`post_worker_init`): a full garbage collection of the ~120,000 objects Django, DRF and the
project load took ~120 ms here, a stall of every thread of the worker; frozen, they are never
traversed again (bench/NOTES.md, "P2").

The access log is one line per request with the path only (`%(U)s`: no query string, so no
secret a client put there reaches the log), and every control or non-printable character in
it escaped: gunicorn writes the URL-decoded path as it is, so `/%0d%0aFAKE` would forge a log
line and `%1b[...` would drive the terminal of whoever reads the log.
"""

from __future__ import annotations

import gc
import re
from datetime import timedelta
from typing import Any

from gunicorn.glogging import Logger

accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(L)ss'
# The default control socket is one per user ($HOME/.gunicorn): two stacks would clash.
control_socket_disable = True
# Idle keep-alive connections are kept longer than nginx's upstream keepalive_timeout (30 s),
# so nginx always drops one first; the other way round gunicorn may close a connection just as
# nginx reuses it, a 502 "Connection reset by peer" (docs/reliability.md).
keepalive = 75

# C0 controls, DEL and C1 controls (PATH_INFO holds bytes as latin-1 characters), and the
# quote and backslash that delimit the logged request.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f"\\]')


def log_safe(text: str) -> str:
    """`text` with every unsafe character as a visible `\\xNN` escape."""
    return _UNSAFE.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class SafeAccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: timedelta) -> Any:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {
            key: log_safe(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


logger_class = SafeAccessLogger


def post_worker_init(worker: Any) -> None:
    """Load what the first requests would, then move it all to the permanent generation
    (`gc.freeze`): the URLconf imports every view; the token backend imports PyJWT and
    `cryptography` (~90 modules, first imported by the first authenticated request before, so
    never frozen, and a stall of that request); the session engine and the auth backends are
    imported by the first request that uses them."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import get_backends
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    import_module("rest_framework_simplejwt.state")  # the token backend: PyJWT, cryptography
    import_module(settings.SESSION_ENGINE)
    get_backends()
    gc.collect()
    gc.freeze()
