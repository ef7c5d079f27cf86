"""The README's sample browser client, run as written in Chromium against a real realtime
process: a protocol error (4400) stops it at once, and a refused token (4401) gets one refresh,
then "log in again", never an endless refresh-and-retry loop."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from taskflow_core.accounts.models import User
from tests.realtime.conftest import Realtime, access_token
from tests.support.browser import chromium_page

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

README = Path(__file__).resolve().parents[2] / "README.md"
# After the client stopped, long enough for a reconnect it should not make (its delay is 1 s).
QUIET_SECONDS = 3.0

# Counts what the client does; the README's code runs unchanged inside `new Function`.
HARNESS = """
([code, token, lastEventId]) => {
  const calls = window.calls = {sockets: 0, refreshes: 0, logInAgain: 0, errors: []};
  const RealWebSocket = window.WebSocket;
  window.WebSocket = function (url) { calls.sockets += 1; return new RealWebSocket(url); };
  console.error = (...parts) => calls.errors.push(parts.join(" "));
  const client = new Function("logInAgain", "showToast", "updateBoard",
    code + "; lastEventId = arguments[3]; return connect;");
  const connect = client(() => { calls.logInAgain += 1; }, () => {}, () => {}, lastEventId);
  connect(async () => token, async () => { calls.refreshes += 1; });
}
"""


def readme_client() -> str:
    blocks = re.findall(r"```js\n(.*?)```", README.read_text(), flags=re.DOTALL)
    [client] = [block for block in blocks if "function connect(" in block]
    return str(client)


def run_client(page: Page, realtime: Realtime, token: str, last_event_id: Any) -> dict[str, Any]:
    """Run the client until it has given up, then a little longer; what it did."""
    page.goto(f"http://127.0.0.1:{realtime.port}/health")  # the client connects to its origin
    page.evaluate(HARNESS, [readme_client(), token, last_event_id])
    page.wait_for_function("window.calls.errors.length > 0 || window.calls.logInAgain > 0")
    time.sleep(QUIET_SECONDS)
    calls: dict[str, Any] = page.evaluate("window.calls")
    return calls


def test_a_protocol_error_stops_the_client(realtime: Realtime, alice: User) -> None:
    token = access_token(alice)
    with chromium_page() as page:
        # A client bug: a number where the protocol wants an event id (a string) or null.
        calls = run_client(page, realtime, token, 42)

    assert calls["sockets"] == 1
    assert calls["refreshes"] == 0
    assert calls["logInAgain"] == 0
    assert calls["errors"] == [
        "protocol error, not retrying: last_event_id must be a string (an event id) or null"
    ]


def test_a_refused_token_is_refreshed_once_then_the_user_logs_in_again(
    realtime: Realtime,
) -> None:
    with chromium_page() as page:
        calls = run_client(page, realtime, "not-a-token", None)

    assert calls["sockets"] == 2
    assert calls["refreshes"] == 1
    assert calls["logInAgain"] == 1
    assert calls["errors"] == []
