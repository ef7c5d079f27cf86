"""Account workflows that reach beyond the account row: registration with its verification
email, password change, logging out everywhere and deactivation.

They sit above `accounts` (which every app uses and which therefore may not import the outbox
or the mail queue): a revocation must also reach the realtime service, as a `control.revoke`
entry in the event stream written by the outbox in the same transaction (docs/events.md,
"Control entries").
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from taskflow_core.accounts.models import User
from taskflow_core.accounts.services import user_create, user_tokens_revoke
from taskflow_core.accounts.verification import email_verification_token
from taskflow_core.emails.services import email_queue
from taskflow_core.events.services import event_emit
from taskflow_events.control import Revoke


@transaction.atomic
def user_register(*, username: str, email: str, password: str) -> User:
    """A new account, and a verification email to its address (sent after commit)."""
    user = user_create(username=username, email=email, password=password)
    user_email_verification_send(user=user)
    return user


def verification_email_text(*, user: User, token: str) -> tuple[str, str]:
    """(subject, body) of the verification email. The token goes in the body, never in a
    link: URLs end up in logs and browser histories."""
    subject = "Confirm your email address for TaskFlow Pro"
    body = (
        f"Hello {user.username},\n\n"
        "To confirm this address, give this verification token to the app (or POST it as\n"
        '{"token": "..."} to /api/v1/auth/verify-email/):\n\n'
        f"{token}\n\n"
        "It works once and expires in "
        f"{settings.TASKFLOW_EMAIL_VERIFICATION_MAX_AGE_SECONDS // 3600} hours. Until the address "
        "is confirmed, TaskFlow Pro sends it no notification emails.\n\n"
        "If you did not create an account, ignore this email.\n"
    )
    return subject, body


@transaction.atomic
def user_email_verification_send(*, user: User) -> bool:
    """Queue a verification email for an unverified address in the mail outbox (sent by the
    worker after commit); False if the address is already verified."""
    if user.email_verified_at is not None or not user.email:
        return False
    subject, body = verification_email_text(user=user, token=email_verification_token(user))
    email_queue(to=user.email, subject=subject, text=body, recipient=user)
    return True


@transaction.atomic
def user_sessions_revoke(*, user: User) -> int:
    """Every token of the user stops working: refresh tokens are blacklisted, access tokens
    issued so far are refused by the API, and the realtime service closes the user's sockets
    (it learns of it from the `control.revoke` entry). Returns the cut-off (unix seconds)."""
    before = user_tokens_revoke(user=user)
    event_emit(
        name="control.revoke",
        team_id=None,
        actor=None,
        data=Revoke(user=user.pk, before=before).model_dump(),
        recipients=[],
    )
    return before


@transaction.atomic
def user_password_change(*, user: User, old_password: str, new_password: str) -> None:
    if not user.check_password(old_password):
        raise ValidationError({"old_password": ["Wrong password."]})
    try:
        validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_sessions_revoke(user=user)


@transaction.atomic
def user_logout_all(*, user: User) -> None:
    user_sessions_revoke(user=user)


@transaction.atomic
def user_deactivate(*, user: User) -> User:
    """The account can no longer sign in, and every session it had ends now."""
    if user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    user_sessions_revoke(user=user)
    return user
