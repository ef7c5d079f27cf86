"""What a user does first, through the containerised gateway: register, get a token, create a
team, create and assign a task and see it arrive on a WebSocket; load the web app; then log in
to the admin over plain HTTP as a browser would (Secure cookies are not sent back over http).

Run inside the stack's network namespace (tests/docker/__main__.py enters it with nsenter):
    python -m tests.docker.smoke http://127.0.0.1:8080
with DJANGO_SUPERUSER_USERNAME/DJANGO_SUPERUSER_PASSWORD naming an existing superuser.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import sys
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

TIMEOUT = 30.0
JSON = dict[str, Any]


class SmokeError(AssertionError):
    pass


def expect(response: httpx.Response, status: int) -> Any:
    if response.status_code != status:
        raise SmokeError(
            f"{response.request.method} {response.request.url.path} -> {response.status_code}"
            f" (expected {status}): {response.text[:300]}"
        )
    return response.json() if response.content else None


async def sign_up(api: httpx.AsyncClient, username: str, password: str) -> tuple[int, str]:
    body = {"username": username, "email": f"{username}@example.com", "password": password}
    user = expect(await api.post("/api/v1/auth/register/", json=body), 201)
    credentials = {"username": username, "password": password}
    tokens = expect(await api.post("/api/v1/auth/token/", json=credentials), 200)
    return int(user["id"]), str(tokens["access"])


async def next_frame(socket: ClientConnection, deadline: float) -> JSON:
    remaining = max(0.1, deadline - time.monotonic())
    frame = json.loads(await asyncio.wait_for(socket.recv(), remaining))
    if not isinstance(frame, dict):
        raise SmokeError(f"unexpected frame {frame!r}")
    return frame


async def task_flow(base: str) -> None:
    suffix = secrets.token_hex(3)
    password = secrets.token_urlsafe(16)
    ws_url = base.replace("http", "ws", 1) + "/ws"
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as api:
        expect(await api.get("/api/v1/health/"), 200)
        expect(await api.get("/realtime/health"), 200)
        alice_name, bob_name = f"alice_{suffix}", f"bob_{suffix}"
        _, alice = await sign_up(api, alice_name, password)
        bob_id, bob = await sign_up(api, bob_name, password)
        as_alice = {"Authorization": f"Bearer {alice}"}
        team_body = {"name": f"Ops {suffix}"}
        team = expect(await api.post("/api/v1/teams/", json=team_body, headers=as_alice), 201)
        member = {"username": bob_name, "role": "member"}
        members = f"/api/v1/teams/{team['id']}/members/"
        expect(await api.post(members, json=member, headers=as_alice), 201)
        print(f"  registered {alice_name} and {bob_name}, team {team['id']}")

        async with connect(ws_url, open_timeout=TIMEOUT) as socket:
            await socket.send(json.dumps({"type": "auth", "token": bob, "last_event_id": None}))
            ready = await next_frame(socket, time.monotonic() + TIMEOUT)
            if ready != {"type": "ready", "user": bob_id}:
                raise SmokeError(f"expected ready for user {bob_id}, got {ready}")
            task_body = {"team": team["id"], "title": "Smoke"}
            task = expect(await api.post("/api/v1/tasks/", json=task_body, headers=as_alice), 201)
            path = f"/api/v1/tasks/{task['id']}/"
            expect(await api.patch(path, json={"assignee": bob_id}, headers=as_alice), 200)
            seen: list[str] = []
            deadline = time.monotonic() + TIMEOUT
            while "notification.created" not in seen:
                frame = await next_frame(socket, deadline)
                if frame.get("type") == "event":
                    seen.append(str(frame["event"]))
                    if frame["event"] == "notification.created":
                        message = frame["data"]["notification"]["message"]
                        print(f"  {bob_name}'s socket: {seen}; notification {message!r}")
            if seen[:2] != ["task.created", "task.updated"]:
                raise SmokeError(f"expected task.created then task.updated first, got {seen}")


def admin_login(base: str, username: str, password: str) -> None:
    """The browser's way: the login form's CSRF cookie must come back, over plain HTTP."""
    with httpx.Client(base_url=base, timeout=TIMEOUT) as browser:
        form = browser.get("/admin/login/?next=/admin/")
        expect_html(form, 200)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if token is None:
            raise SmokeError("no CSRF token on the admin login form")
        fields = {
            "csrfmiddlewaretoken": token.group(1),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
        login = browser.post("/admin/login/?next=/admin/", data=fields)
        if login.status_code != 302 or login.headers.get("location") != "/admin/":
            raise SmokeError(f"admin login refused: {login.status_code} {login.text[:300]}")
        index = browser.get("/admin/")
        expect_html(index, 200)
        if "Site administration" not in index.text:
            raise SmokeError("logged in, but /admin/ is not the admin index")
        print(f"  admin login over plain HTTP as {username}: ok")


def web_app(base: str) -> None:
    """The gateway image ships the web app (web/): its page at `/` and its client module."""
    with httpx.Client(base_url=base, timeout=TIMEOUT) as browser:
        page = browser.get("/")
        expect_html(page, 200)
        if '<script type="module" src="/app/app.js">' not in page.text:
            raise SmokeError("/ is not the web app's page")
        client = browser.get("/app/taskflow-client.js")
        expect_html(client, 200)
        if "export class TaskflowClient" not in client.text:
            raise SmokeError("/app/taskflow-client.js is not the client module")
    print("  web app at / and /app/taskflow-client.js: ok")


def expect_html(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise SmokeError(f"{response.request.url.path} -> {response.status_code}")


def main(argv: list[str]) -> int:
    base = argv[1] if len(argv) > 1 else "http://127.0.0.1:8080"
    asyncio.run(task_flow(base))
    web_app(base)
    admin_login(
        base, os.environ["DJANGO_SUPERUSER_USERNAME"], os.environ["DJANGO_SUPERUSER_PASSWORD"]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
