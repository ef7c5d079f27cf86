from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    email = models.EmailField(unique=True)
    email_notifications = models.BooleanField(
        default=True, help_text="Send email for assignments and deadlines."
    )
