"""`make demo`: watch a notification travel from the REST API to a WebSocket, with its latency.

With the stack running (`make run`), this registers two users, lets the first create a team with
the second in it, opens a socket as the second, then has the first create a task and assign it to
the second. Every frame the socket receives is printed as it arrives.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from taskflow_local import stackfile

JSON = dict[str, Any]


class DemoError(Exception):
    pass


def request(base: str, method: str, path: str, body: JSON | None = None, token: str = "") -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{base}{path}", data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=10) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise DemoError(f"{method} {path} -> {error.code}: {error.read().decode()[:300]}") from None
    return json.loads(raw) if raw else None


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def locate(gateway_port: int, api_port: int, realtime_port: int) -> tuple[str, str]:
    """The gateway when nginx runs, else the services' own ports."""
    gateway = f"http://127.0.0.1:{gateway_port}"
    if reachable(f"{gateway}/api/v1/health/"):
        return gateway, f"ws://127.0.0.1:{gateway_port}/ws"
    api = f"http://127.0.0.1:{api_port}"
    if reachable(f"{api}/api/v1/health/"):
        return api, f"ws://127.0.0.1:{realtime_port}/ws"
    raise DemoError(f"No TaskFlow Pro on {gateway} or {api}: start it with `make run` first.")


def sign_up(base: str, username: str, password: str) -> tuple[int, str]:
    email = f"{username}@example.com"
    user = request(
        base,
        "POST",
        "/api/v1/auth/register/",
        {"username": username, "email": email, "password": password},
    )
    tokens = request(
        base, "POST", "/api/v1/auth/token/", {"username": username, "password": password}
    )
    return int(user["id"]), str(tokens["access"])


async def receive(socket: ClientConnection, wait: float) -> JSON:
    frame = json.loads(await asyncio.wait_for(socket.recv(), wait))
    if not isinstance(frame, dict):
        raise DemoError(f"unexpected frame {frame!r}")
    return frame


async def run(base: str, ws_url: str, wait: float) -> float:
    suffix = secrets.token_hex(3)
    password = secrets.token_urlsafe(16)
    call = asyncio.to_thread
    alice_name, bob_name = f"alice_{suffix}", f"bob_{suffix}"
    _, alice = await call(sign_up, base, alice_name, password)
    bob_id, bob = await call(sign_up, base, bob_name, password)
    print(f"Registered {alice_name} and {bob_name} at {base}")
    team = await call(request, base, "POST", "/api/v1/teams/", {"name": f"Demo {suffix}"}, alice)
    member = {"username": bob_name, "role": "member"}
    await call(request, base, "POST", f"/api/v1/teams/{team['id']}/members/", member, alice)
    print(f"{alice_name} created team {team['id']} with {bob_name} in it")

    async with connect(ws_url, open_timeout=wait) as socket:
        await socket.send(json.dumps({"type": "auth", "token": bob, "last_event_id": None}))
        ready = await receive(socket, wait)
        if ready.get("type") != "ready":
            raise DemoError(f"expected a ready frame, got {ready}")
        print(f"{bob_name} is connected to {ws_url}: {ready}")

        # Read the socket while the API calls run, so arrival times are real, not queued.
        frames: asyncio.Queue[tuple[float, JSON]] = asyncio.Queue()

        async def listen() -> None:
            while True:
                frame = await receive(socket, 3600)
                await frames.put((time.perf_counter(), frame))

        listener = asyncio.create_task(listen())
        try:
            task = await call(
                request,
                base,
                "POST",
                "/api/v1/tasks/",
                {"team": team["id"], "title": "Try the demo"},
                alice,
            )
            print(f"{alice_name} created task {task['id']}; assigning it to {bob_name}...")
            sent = time.perf_counter()
            path = f"/api/v1/tasks/{task['id']}/"
            await call(request, base, "PATCH", path, {"assignee": bob_id}, alice)
            answered_ms = (time.perf_counter() - sent) * 1000
            print(f"  PATCH answered after {answered_ms:.1f} ms; frames on {bob_name}'s socket:")
            while True:
                arrived, frame = await asyncio.wait_for(frames.get(), wait)
                offset_ms = (arrived - sent) * 1000
                print(f"  {offset_ms:+8.1f} ms  {frame.get('event', frame.get('type'))}")
                if frame.get("event") == "notification.created":
                    notification = frame["data"]["notification"]
                    print(f"\nNotification for {bob_name}: {notification['message']!r}")
                    print(f"Latency from sending the PATCH to the socket: {offset_ms:.1f} ms")
                    return offset_ms
        finally:
            listener.cancel()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taskflow_local.demo", description=__doc__)
    port = os.environ.get
    parser.add_argument(
        "--gateway-port", type=int, default=int(port("TASKFLOW_GATEWAY_PORT", "8080"))
    )
    parser.add_argument("--api-port", type=int, default=int(port("TASKFLOW_API_PORT", "8000")))
    parser.add_argument(
        "--realtime-port", type=int, default=int(port("TASKFLOW_REALTIME_PORT", "8001"))
    )
    parser.add_argument("--base-url", help="API base, e.g. http://127.0.0.1:8080")
    parser.add_argument("--ws-url", help="WebSocket URL, e.g. ws://127.0.0.1:8080/ws")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    running = stackfile.read(Path(os.environ.get("TASKFLOW_HOME", ".taskflow")).resolve())
    try:
        if args.base_url and args.ws_url:
            base, ws_url = args.base_url.rstrip("/"), args.ws_url
        elif running is not None:
            # The stack `make run` started from this checkout says where it answers.
            base, ws_url = running.base_url, running.ws_url
        else:
            base, ws_url = locate(args.gateway_port, args.api_port, args.realtime_port)
        asyncio.run(run(base, ws_url, args.timeout))
    except (DemoError, OSError, TimeoutError) as error:
        print(f"demo failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
