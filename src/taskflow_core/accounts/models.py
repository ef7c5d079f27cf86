from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower

# How long a notification's email may wait for the notification to be read (docs/background.md).
EMAIL_DELAY_MAX_MINUTES = 1440


class User(AbstractUser):
    email = models.EmailField(unique=True)
    email_notifications = models.BooleanField(
        default=True, help_text="Send notification emails at all (see also the types)."
    )
    # {notification type: bool} for the types whose email the user switched away from the
    # default; the types and their defaults belong to the notifications app.
    # Database defaults too, so that rows written without the ORM's defaults (older code during
    # a rolling deploy, raw inserts) get the documented values.
    email_types = models.JSONField(
        default=dict, db_default=models.Value({}, output_field=models.JSONField()), blank=True
    )
    email_delay_minutes = models.PositiveSmallIntegerField(
        default=5,
        db_default=5,
        validators=[MaxValueValidator(EMAIL_DELAY_MAX_MINUTES)],
        help_text="How long an email waits for its notification to be read in the app.",
    )
    email_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the address was confirmed; unverified gets no mail."
    )
    tokens_valid_after = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Access tokens issued before this are refused (password change, logout "
        "everywhere, deactivation).",
    )

    class Meta(AbstractUser.Meta):
        # Case-insensitive uniqueness lives in the database, so concurrent registrations of
        # `Alice` and `alice` cannot both succeed (docs/api.md, "Accounts").
        constraints = [
            models.UniqueConstraint(
                Lower("username"),
                name="user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message="A user with that email already exists.",
            ),
        ]

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None
