from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from taskflow_core.accounts.models import User


@transaction.atomic
def user_create(*, username: str, email: str, password: str) -> User:
    errors: dict[str, list[str]] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["A user with that username already exists."]
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = ["A user with that email already exists."]
    user = User(username=username, email=email)
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    user.save()
    return user


def user_preferences_update(*, user: User, email_notifications: bool) -> User:
    user.email_notifications = email_notifications
    user.save(update_fields=["email_notifications"])
    return user
