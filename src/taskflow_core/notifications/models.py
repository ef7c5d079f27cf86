from django.conf import settings
from django.db import models
from django.db.models import Q


class NotificationType(models.TextChoices):
    TASK_ASSIGNED = "task_assigned"
    TASK_STATUS_CHANGED = "task_status_changed"
    TASK_COMMENTED = "task_commented"
    MENTIONED = "mentioned"
    DEADLINE_APPROACHING = "deadline_approaching"
    TASK_OVERDUE = "task_overdue"


# Whether a type is emailed when the user has not chosen otherwise (docs/api.md, the
# notification table); `User.email_types` holds the user's own choices.
EMAIL_BY_DEFAULT: dict[str, bool] = {
    NotificationType.TASK_ASSIGNED.value: True,
    NotificationType.TASK_STATUS_CHANGED.value: False,
    NotificationType.TASK_COMMENTED.value: False,
    NotificationType.MENTIONED.value: True,
    NotificationType.DEADLINE_APPROACHING.value: True,
    NotificationType.TASK_OVERDUE.value: True,
}

# Most important first: what a digest email's subject leads with.
IMPORTANCE = (
    NotificationType.TASK_OVERDUE,
    NotificationType.DEADLINE_APPROACHING,
    NotificationType.MENTIONED,
    NotificationType.TASK_ASSIGNED,
    NotificationType.TASK_COMMENTED,
    NotificationType.TASK_STATUS_CHANGED,
)


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    type = models.CharField(max_length=30, choices=NotificationType.choices)
    task = models.ForeignKey(
        "tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # When its email may go out if it is still unread; null once emailed, or when no email is
    # wanted. The digest job (notifications/digest.py) clears it in the transaction that
    # creates the email, which is what makes the email exactly-once.
    email_due_at = models.DateTimeField(null=True, blank=True)
    # The (digest) email that carried this notification (the outbox does not know why it sends
    # a mail; the link lives here).
    email = models.ForeignKey(
        "emails.EmailDelivery",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["recipient"], name="notification_unread", condition=Q(read_at__isnull=True)
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            # The digest job reads only notifications still waiting for their email.
            models.Index(
                fields=["email_due_at"],
                name="notification_email_waiting",
                condition=Q(email_due_at__isnull=False, read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.recipient_id}"
