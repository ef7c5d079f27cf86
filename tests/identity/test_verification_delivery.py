"""Email verification end to end: registering over HTTP (the live server) queues one email the
real Celery worker hands to a real SMTP server; its token verifies the address once, and only a
verified address is ever sent notification email."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import httpx
import pytest
from pytest_django.live_server_helper import LiveServer

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import EmailDelivery
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Membership, Role, Team
from tests.conftest import PASSWORD
from tests.emails.background import Mailbox, wait_until
from tests.support.processes import ServerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

TOKEN_LINE = re.compile(r"^([\w:\-]{20,})\r?$", re.MULTILINE)  # SMTP lines end in CRLF


def post(server: LiveServer, path: str, body: dict[str, str], token: str = "") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{server.url}/api/v1/{path}", json=body, headers=headers, timeout=30)


def access(server: LiveServer, username: str) -> str:
    response = post(server, "auth/token/", {"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["access"])


def me(server: LiveServer, username: str) -> dict[str, object]:
    response = httpx.get(
        f"{server.url}/api/v1/users/me/",
        headers={"Authorization": f"Bearer {access(server, username)}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    result: dict[str, object] = response.json()
    return result


def test_a_registered_address_is_verified_by_the_emailed_token_and_only_then_mailed(
    live_server: LiveServer,
    mailbox: Mailbox,
    worker: ServerProcess,
    caplog: pytest.LogCaptureFixture,
    make_user: Callable[..., User],
    team: Team,
    alice: User,
    bob: User,
) -> None:
    caplog.set_level(logging.DEBUG)
    registered = post(
        live_server,
        "auth/register/",
        {"username": "erin", "email": "erin@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text

    [mail] = wait_until(lambda: mailbox.messages_to("erin@example.com"), what="the email")
    match = TOKEN_LINE.search(mail.body("plain"))
    assert match is not None, mail.body("plain")
    token = match.group(1)
    assert token not in mail.subject
    assert me(live_server, "erin")["email_verified"] is False

    assert post(live_server, "auth/verify-email/", {"token": token}).status_code == 204
    assert me(live_server, "erin")["email_verified"] is True
    again = post(live_server, "auth/verify-email/", {"token": token})
    assert again.status_code == 400
    assert list(again.json()) == ["token"]
    assert len(mailbox.messages_to("erin@example.com")) == 1

    # Notification email goes to the verified address only.
    erin = User.objects.get(username="erin")
    dave = make_user("dave", email_verified_at=None)
    for member in (erin, dave):
        Membership.objects.create(team=team, user=member, role=Role.MEMBER)
    task_create(team=team, actor=alice, title="For the unverified", assignee=dave)
    task_create(team=team, actor=alice, title="For the verified", assignee=erin)
    wait_until(lambda: len(mailbox.messages_to(erin.email)) == 2, what="erin's digest")
    # Bob's email, queued after both, has arrived: nothing else was on its way to them.
    task_create(team=team, actor=alice, title="Barrier", assignee=bob)
    wait_until(lambda: mailbox.messages_to(bob.email), what="bob's email")

    digest = mailbox.messages_to(erin.email)[1]
    assert "For the verified" in digest.body("plain")
    assert len(mailbox.messages_to(erin.email)) == 2  # the verification email and one digest
    assert mailbox.messages_to(dave.email) == []
    assert not EmailDelivery.objects.filter(to=dave.email).exists()

    # The token travelled only in the email body: never in a URL or a log line.
    # (aiosmtpd's own "mail.log" is the test's SMTP server printing what it received.)
    core_log = "\n".join(
        f"{record.name} {record.getMessage()}"
        for record in caplog.records
        if not record.name.startswith("mail.log")
    )
    assert token not in core_log
    assert token not in worker.output()
    assert "sent to erin@example.com" in worker.output()  # the worker's log was read


def test_resend_sends_a_fresh_token_only_while_the_address_is_unverified(
    live_server: LiveServer, mailbox: Mailbox, make_user: Callable[..., User]
) -> None:
    make_user("carol", email_verified_at=None)
    token = access(live_server, "carol")
    assert post(live_server, "auth/verify-email/resend/", {}, token).status_code == 202
    [mail] = wait_until(lambda: mailbox.messages_to("carol@example.com"), what="the email")
    match = TOKEN_LINE.search(mail.body("plain"))
    assert match is not None, mail.body("plain")
    assert post(live_server, "auth/verify-email/", {"token": match.group(1)}).status_code == 204

    assert post(live_server, "auth/verify-email/resend/", {}, token).status_code == 202
    # A barrier queued after the second resend: once it arrives, nothing else is on its way.
    make_user("dave", email_verified_at=None)
    dave = access(live_server, "dave")
    assert post(live_server, "auth/verify-email/resend/", {}, dave).status_code == 202
    wait_until(lambda: mailbox.messages_to("dave@example.com"), what="dave's email")
    assert len(mailbox.messages_to("carol@example.com")) == 1  # verified: nothing more sent
