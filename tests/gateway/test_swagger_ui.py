"""Swagger UI in a real browser (Debian's Chromium driven by Playwright): it renders from the
project's own static files with no request leaving the machine, takes a JWT through Authorize,
and executes an authorized request. Once through the nginx gateway (collected static files), once
against the core alone as `make run` serves it without nginx (local settings, DEBUG)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Request, expect
from pytest_django import DjangoDbBlocker
from rest_framework_simplejwt.tokens import RefreshToken

from taskflow_core.accounts.models import User
from tests.gateway.conftest import StartGateway, wait_until_ok
from tests.support.browser import TIMEOUT_MS, chromium_page
from tests.support.processes import REPO, ServerProcess, free_port, python_module, service_env

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def static_root(
    tmp_path_factory: pytest.TempPathFactory,
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
) -> Path:
    """`collectstatic` into a directory of its own, as `make run` and the gateway image do."""
    root = tmp_path_factory.mktemp("static")
    with django_db_blocker.unblock():
        env = service_env(TASKFLOW_STATIC_ROOT=str(root))
    subprocess.run(
        python_module("django", "collectstatic", "--no-input", "-v", "0"),
        env={**env, "PYTHONPATH": str(REPO / "src")},
        cwd=REPO,
        check=True,
        timeout=300,
    )
    return root


@pytest.fixture(scope="module")
def debug_core(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[str]:
    """gunicorn with the local settings `make run` uses (DEBUG: the core serves /static/)."""
    with django_db_blocker.unblock():
        env = service_env(DJANGO_SETTINGS_MODULE="taskflow_core.config.settings.local")
    port = free_port()
    args = python_module(
        "gunicorn",
        "taskflow_core.config.wsgi",
        *("--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket"),
    )
    with ServerProcess(args, env=env, port=port, startup_timeout=60):
        wait_until_ok(f"http://127.0.0.1:{port}/api/v1/health/")
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def signed_in(transactional_db: None) -> tuple[str, str]:
    """A user's name and access token, committed so the servers see the user."""
    user = User.objects.create_user(
        username=f"swagger_{uuid.uuid4().hex[:8]}", email="swagger@example.com", password="x" * 20
    )
    return user.username, str(RefreshToken.for_user(user).access_token)


@pytest.fixture
def page(signed_in: tuple[str, str]) -> Iterator[Page]:
    """A fresh page, opened after the database work of the fixtures it depends on, closed before
    their teardown (tests/support/browser.py says why)."""
    with chromium_page() as page:
        yield page


def authorize_and_call_me(page: Page, base_url: str, token: str, username: str) -> list[Request]:
    """Open the docs, Authorize with `token`, execute GET /api/v1/users/me/; every request the
    page made, in order."""
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    page.goto(f"{base_url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("TaskFlow Pro API")
    # The note that tells a newcomer how to get in.
    expect(page.locator(".swagger-ui .info .description")).to_contain_text("Authorize")

    page.locator(".swagger-ui .auth-wrapper .btn.authorize").click()
    dialog = page.locator(".swagger-ui .dialog-ux .modal-ux")
    dialog.locator("input").fill(token)
    dialog.get_by_role("button", name="Apply credentials").click()
    expect(dialog).to_contain_text("Authorized")
    dialog.locator("button.btn-done").click()

    operation = page.locator("#operations-users-users_me")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    live = operation.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status").first).to_have_text("200", timeout=TIMEOUT_MS)
    expect(live.locator(".response-col_description")).to_contain_text(username)
    return requests


def assert_served_locally(requests: list[Request]) -> None:
    urls = [request.url for request in requests]
    outside = [url for url in urls if urlsplit(url).hostname not in LOCAL_HOSTS]
    assert outside == [], f"requests left the machine: {outside}"
    bundle = [
        request
        for request in requests
        if request.url.endswith(
            "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
        )
    ]
    assert len(bundle) == 1, urls
    response = bundle[0].response()
    assert response is not None
    assert response.status == 200
    me_calls = [
        request for request in requests if urlsplit(request.url).path == "/api/v1/users/me/"
    ]
    assert [call.headers.get("authorization", "").split()[0] for call in me_calls] == ["Bearer"]


def test_swagger_ui_through_the_gateway_offline(
    start_gateway: StartGateway,
    core: str,
    unused_realtime: list[str],
    static_root: Path,
    signed_in: tuple[str, str],
    page: Page,
) -> None:
    gateway = start_gateway([core], unused_realtime, static_root=static_root)
    username, token = signed_in

    requests = authorize_and_call_me(page, gateway.url, token, username)

    assert_served_locally(requests)


def test_swagger_ui_from_the_core_alone_offline(
    debug_core: str, signed_in: tuple[str, str], page: Page
) -> None:
    username, token = signed_in

    requests = authorize_and_call_me(page, debug_core, token, username)

    assert_served_locally(requests)
