"""Which notifications a user wants by email, and how long an email waits to be read."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from taskflow_core.accounts.models import User
from taskflow_core.notifications.models import EMAIL_BY_DEFAULT


def email_types_for(user: User) -> dict[str, bool]:
    """Every notification type with whether it is emailed to `user` (their choice, else the
    default)."""
    chosen = user.email_types or {}
    return {kind: bool(chosen.get(kind, default)) for kind, default in EMAIL_BY_DEFAULT.items()}


def email_wanted(*, user: User, type: str) -> bool:
    # Only a verified address is ever mailed: an account registered with someone else's
    # address cannot make the product write to it (docs/background.md, "Who gets email").
    if not user.email_notifications or not user.email or not user.email_verified:
        return False
    return bool((user.email_types or {}).get(type, EMAIL_BY_DEFAULT.get(type, False)))


def email_due_at(*, user: User, type: str, now: datetime) -> datetime | None:
    """When a new notification's email may go out if it is still unread; None: no email.

    `TASKFLOW_EMAIL_DELAY_UNIT_SECONDS` is the length of one of the user's delay minutes (60);
    tests shorten it to wait seconds instead of minutes.
    """
    if not email_wanted(user=user, type=type):
        return None
    unit = float(settings.TASKFLOW_EMAIL_DELAY_UNIT_SECONDS)
    return now + timedelta(seconds=user.email_delay_minutes * unit)
