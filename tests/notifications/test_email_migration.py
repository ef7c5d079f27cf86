"""The migration that moved the email link from the outbox to the notification keeps every
existing email: sent ones stay linked, a pending one never rendered gets the message as text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("emails", "0001_initial"), ("notifications", "0001_initial")]
AFTER = [("emails", "0003_remove_emaildelivery_notification")]


@pytest.fixture
def latest_schema_afterwards() -> Iterator[None]:
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # whatever the test left behind


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("latest_schema_afterwards")
def test_existing_deliveries_are_linked_from_their_notifications() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("accounts", "User").objects.create(username="bob", email="bob@example.com")
    Notification = old.get_model("notifications", "Notification")
    EmailDelivery = old.get_model("emails", "EmailDelivery")
    sent, pending, _ = (
        Notification.objects.create(recipient=user, type="task_assigned", message=text)
        for text in ("sent already", "not rendered yet", "no email")
    )
    now = timezone.now()
    EmailDelivery.objects.create(
        notification=sent,
        to=user.email,
        subject="[Platform] sent already",
        body_text="the text\n",
        status="sent",
        next_attempt_at=now,
    )
    EmailDelivery.objects.create(notification=pending, to=user.email, next_attempt_at=now)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor.loader.build_graph()
    new = executor.loader.project_state(AFTER).apps
    Notification = new.get_model("notifications", "Notification")

    emails = {
        notification.message: notification.email
        for notification in Notification.objects.select_related("email")
    }
    assert emails["no email"] is None
    assert {email.recipient_id for email in emails.values() if email is not None} == {user.pk}
    assert (emails["sent already"].subject, emails["sent already"].body_text) == (
        "[Platform] sent already",
        "the text\n",
    )
    assert (emails["not rendered yet"].subject, emails["not rendered yet"].body_text) == (
        "not rendered yet",
        "not rendered yet\n",
    )
