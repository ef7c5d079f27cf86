from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    email = models.EmailField(unique=True)
    email_notifications = models.BooleanField(
        default=True, help_text="Send email for assignments and deadlines."
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
