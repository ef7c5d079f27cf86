"""The gateway itself, through a real nginx in front of a real core: routing, limits, headers,
static files and a log that never holds a token."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from taskflow_core.accounts.models import User
from tests.gateway.conftest import RunningGateway, StartGateway


def gateway_get(gateway: RunningGateway, path: str) -> httpx.Response:
    with gateway.client() as client:
        return client.get(path)


def gateway_post(gateway: RunningGateway, path: str, **options: Any) -> httpx.Response:
    with gateway.client() as client:
        return client.post(path, **options)


pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}


def test_api_is_proxied_to_core_with_security_headers_once(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime)
    response = gateway_get(gateway, "/api/v1/health/")
    assert response.status_code == 200
    body = response.json()
    assert (body["database"], body["redis"]) == (True, True)
    assert body["status"] in ("ok", "degraded")  # degraded: no relay runs in this test
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get_list(name) == [value]
    assert "server" not in response.headers or "nginx/" not in response.headers["server"]


def test_admin_is_proxied_and_unknown_paths_are_json_404(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime)
    admin = gateway_get(gateway, "/admin/login/")
    assert admin.status_code == 200
    assert "Django" in admin.text
    missing = gateway_get(gateway, "/wp-login.php")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not found."}
    docs = gateway_get(gateway, "/api/docs/")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


def test_the_web_app_is_served_at_the_root_with_its_client_module(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime)
    root = gateway_get(gateway, "/")
    assert root.status_code == 200
    assert root.headers["content-type"] == "text/html"
    assert '<script type="module" src="/app/app.js"></script>' in root.text
    assert "default-src 'self'" in root.headers["content-security-policy"]
    for name, value in SECURITY_HEADERS.items():
        assert root.headers.get_list(name) == [value]
    client = gateway_get(gateway, "/app/taskflow-client.js")
    assert client.status_code == 200
    assert client.headers["content-type"] == "application/javascript"
    assert "export class TaskflowClient" in client.text
    # Unhashed file names: browsers must revalidate, so a deploy shows at once.
    assert client.headers["cache-control"] == "no-cache"


def test_static_files_are_served_by_nginx_from_the_static_root(
    start_gateway: StartGateway, core: str, unused_realtime: list[str], tmp_path: Path
) -> None:
    static_root = tmp_path / "static"
    (static_root / "admin").mkdir(parents=True)
    (static_root / "admin" / "probe.css").write_text("body { color: teal; }\n")
    gateway = start_gateway([core], unused_realtime, static_root=static_root)
    response = gateway_get(gateway, "/static/admin/probe.css")
    assert response.status_code == 200
    assert response.text == "body { color: teal; }\n"
    assert response.headers["content-type"] == "text/css"
    assert gateway_get(gateway, "/static/admin/absent.css").status_code == 404


def test_a_body_over_the_limit_is_refused_with_413(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime, client_max_body_size="1m")
    big = b'{"title": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    response = gateway_post(
        gateway, "/api/v1/tasks/", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large (limit 1m)."}
    # Just under the limit is buffered (in the prefix's temp dir) and reaches the core, which
    # parses all of it and names the oversized field.
    credentials = {"username": "x" * (1024 * 1024 - 1024), "password": "guess"}
    near = gateway_post(gateway, "/api/v1/auth/token/", json=credentials)
    assert near.status_code == 400
    assert list(near.json()) == ["username"]
    assert len(near.request.content) > 1024 * 1024 - 1024


def test_repeated_bad_logins_are_answered_429_and_other_routes_stay_open(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime, auth_rate="30r/m", auth_burst=5)
    credentials = {"username": "alice", "password": "guess"}
    with gateway.client() as client:
        statuses = [
            client.post("/api/v1/auth/token/", json=credentials).status_code for _ in range(25)
        ]
        assert statuses[0] == 401
        assert set(statuses) == {401, 429}
        # Burst of 5 plus at most a couple of tokens refilled while the loop runs.
        assert statuses.count(429) >= 15
        limited = client.post("/api/v1/auth/token/", json=credentials)
        assert limited.status_code == 429
        assert limited.json() == {"detail": "Too many requests; try again later."}
        assert client.get("/api/v1/health/").status_code == 200


def test_access_log_never_holds_a_token(
    start_gateway: StartGateway,
    core: str,
    unused_realtime: list[str],
    make_user: Callable[..., User],
) -> None:
    gateway = start_gateway([core], unused_realtime)
    user = make_user("carol")
    refresh = RefreshToken.for_user(user)
    access = str(refresh.access_token)
    with gateway.client() as client:
        # A careless client that puts the token in the query string as well as the header.
        response = client.get(
            "/api/v1/health/",
            params={"access_token": access},
            headers={"Authorization": f"Bearer {access}"},
        )
        assert response.status_code == 200
        client.post("/api/v1/auth/token/refresh/", json={"refresh": str(refresh)})
    log = gateway.access_log_with("POST /api/v1/auth/token/refresh/ HTTP/1.1")
    assert '"GET /api/v1/health/ HTTP/1.1" 200' in log
    assert "POST /api/v1/auth/token/refresh/ HTTP/1.1" in log
    for secret in (access, str(refresh), access.split(".")[2], "Bearer"):
        assert secret not in log


class RecordingUpstream(http.server.ThreadingHTTPServer):
    """Stands in for core and realtime to show what nginx forwards (nginx itself is real)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, str]]] = []
        super().__init__(("127.0.0.1", 0), RecordingHandler)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class RecordingHandler(http.server.BaseHTTPRequestHandler):
    server: RecordingUpstream

    def do_GET(self) -> None:
        self.server.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recording_upstream() -> Iterator[RecordingUpstream]:
    upstream = RecordingUpstream()
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    yield upstream
    upstream.shutdown()
    upstream.server_close()
    thread.join()


def test_client_address_scheme_host_and_upgrade_are_forwarded(
    start_gateway: StartGateway, recording_upstream: RecordingUpstream
) -> None:
    upstream = recording_upstream.address
    gateway = start_gateway([upstream], [upstream])
    with gateway.client() as client:
        assert client.get("/api/v1/anything/?q=1").status_code == 200
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
        assert client.get("/ws", headers=upgrade).status_code == 200
    (api_path, api), (ws_path, ws) = recording_upstream.seen
    assert api_path == "/api/v1/anything/?q=1"
    assert ws_path == "/ws"
    for headers in (api, ws):
        assert headers["x-forwarded-for"] == "127.0.0.1"
        assert headers["x-forwarded-proto"] == "http"
        assert headers["x-real-ip"] == "127.0.0.1"
        assert headers["host"] == f"127.0.0.1:{gateway.port}"
    assert ws["upgrade"] == "websocket"
    assert ws["connection"] == "upgrade"
    assert "upgrade" not in api


def test_metrics_are_served_by_the_core_but_not_through_the_gateway(
    start_gateway: StartGateway, core: str, unused_realtime: list[str]
) -> None:
    gateway = start_gateway([core], unused_realtime)
    assert httpx.get(f"http://{core}/metrics", timeout=30).status_code == 200
    for path in ("/metrics", "/realtime/metrics"):
        response = gateway_get(gateway, path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not found."}


def forwarded_protos(
    gateway: RunningGateway, upstream: RecordingUpstream, claimed: str
) -> tuple[str, str]:
    """X-Forwarded-Proto as the core and as realtime receive it, for a client claiming one."""
    with gateway.client() as client:
        claim = {"X-Forwarded-Proto": claimed}
        assert client.get("/api/v1/anything/", headers=claim).status_code == 200
        upgrade = {**claim, "Upgrade": "websocket", "Connection": "Upgrade"}
        assert client.get("/ws", headers=upgrade).status_code == 200
    (_, api), (_, ws) = upstream.seen[-2:]
    return api["x-forwarded-proto"], ws["x-forwarded-proto"]


def test_a_trusted_proxy_in_front_passes_its_scheme_through(
    start_gateway: StartGateway, recording_upstream: RecordingUpstream
) -> None:
    """Behind a TLS terminator at a trusted address, the core learns the request was https."""
    upstream = recording_upstream.address
    gateway = start_gateway([upstream], [upstream], trusted_proxies=("127.0.0.0/8",))
    assert forwarded_protos(gateway, recording_upstream, "https") == ("https", "https")
    assert forwarded_protos(gateway, recording_upstream, "http") == ("http", "http")
    # Anything but http/https is not a scheme: the connection's own is sent instead.
    assert forwarded_protos(gateway, recording_upstream, "https, http") == ("http", "http")


def test_a_client_that_is_not_a_trusted_proxy_cannot_claim_https(
    start_gateway: StartGateway, recording_upstream: RecordingUpstream
) -> None:
    upstream = recording_upstream.address
    for trusted in ((), ("10.0.0.0/8", "192.0.2.7")):
        gateway = start_gateway([upstream], [upstream], trusted_proxies=trusted)
        assert forwarded_protos(gateway, recording_upstream, "https") == ("http", "http")
