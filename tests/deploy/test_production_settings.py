"""Production settings' cookies: Secure by default; not Secure only when the operator says the
site is reached over plain HTTP (`TASKFLOW_PLAIN_HTTP=true`, the local compose stack), because
browsers (and Python's cookie jar) drop Secure cookies there and the admin login with them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOGIN_PAGE_COOKIES = """
import json
import django
django.setup()
from django.test import Client
response = Client().get("/admin/login/")
assert response.status_code == 200, response.status_code
print(json.dumps({name: bool(morsel["secure"]) for name, morsel in response.cookies.items()}))
"""


def login_page_cookies(**extra: str) -> dict[str, bool]:
    env = dict(os.environ)
    env.pop("TASKFLOW_PLAIN_HTTP", None)
    env.update(
        DJANGO_SETTINGS_MODULE="taskflow_core.config.settings.production",
        SECRET_KEY="s" * 50,
        ALLOWED_HOSTS="testserver",
        PYTHONPATH=str(REPO / "src"),
        **extra,
    )
    result = subprocess.run(
        [sys.executable, "-c", LOGIN_PAGE_COOKIES],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    cookies = json.loads(result.stdout.strip().splitlines()[-1])
    assert isinstance(cookies, dict)
    return cookies


def test_production_cookies_are_secure_by_default() -> None:
    assert login_page_cookies() == {"csrftoken": True}
    assert login_page_cookies(TASKFLOW_PLAIN_HTTP="false") == {"csrftoken": True}


def test_plain_http_flag_lets_the_admin_login_cookie_work_over_http() -> None:
    assert login_page_cookies(TASKFLOW_PLAIN_HTTP="true") == {"csrftoken": False}
