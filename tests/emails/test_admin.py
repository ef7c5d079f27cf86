"""Failed emails are visible, with their error, in the admin; deadline alerts too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from taskflow_core.accounts.models import User
from taskflow_core.emails.models import DeliveryStatus, EmailDelivery
from taskflow_core.emails.services import email_queue
from taskflow_core.reminders.services import deadline_scan
from taskflow_core.tasks.services import task_create
from taskflow_core.teams.models import Team

pytestmark = pytest.mark.django_db


def test_a_failed_email_shows_its_error_in_the_admin(admin_client: Client) -> None:
    email_queue(to="bob@example.com", subject="Unlucky", text="text")
    EmailDelivery.objects.update(
        status=DeliveryStatus.FAILED,
        attempts=5,
        last_error="SMTPDataError: (451, b'Mailbox temporarily unavailable')",
    )
    delivery = EmailDelivery.objects.get()

    listing = admin_client.get("/admin/emails/emaildelivery/?status__exact=failed")
    detail = admin_client.get(f"/admin/emails/emaildelivery/{delivery.pk}/change/")

    assert listing.status_code == 200
    assert "bob@example.com" in listing.content.decode()
    assert detail.status_code == 200
    assert "Mailbox temporarily unavailable" in detail.content.decode()
    assert admin_client.get("/admin/emails/emaildelivery/add/").status_code == 403


def test_deadline_alerts_are_listed_in_the_admin(
    admin_client: Client, team: Team, alice: User
) -> None:
    task_create(team=team, actor=alice, title="Soon", due_at=timezone.now() + timedelta(minutes=5))
    deadline_scan()

    listing = admin_client.get("/admin/reminders/deadlinealert/")

    assert listing.status_code == 200
    assert "Deadline Approaching" in listing.content.decode()
