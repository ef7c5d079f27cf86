from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator
from django.db import models

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
