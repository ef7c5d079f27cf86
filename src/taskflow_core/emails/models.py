from django.conf import settings
from django.db import models
from django.db.models import Q


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class EmailDelivery(models.Model):
    """One email in the outbox: what it says, its attempts, outcome and last error.

    The row is written, already rendered, in the transaction of whatever caused it, and locked
    by whichever worker sends it, so a retried or duplicated job never sends an email that has
    already gone out. The outbox knows nothing of why an email is sent: the apps that queue
    email keep their own link to the row (`Notification.email`).
    """

    to = models.EmailField()
    # The account the email is for, when it is for one: a deleted account's unsent mail goes too.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    subject = models.CharField(max_length=255, blank=True, default="")
    body_text = models.TextField(blank=True, default="")
    body_html = models.TextField(blank=True, default="")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "email deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The per-recipient cap counts an address's recent emails.
            models.Index(fields=["to", "created_at"], name="email_delivery_to_recent"),
            # The requeue sweep reads only pending rows by their due time.
            models.Index(
                fields=["next_attempt_at"],
                name="email_delivery_pending",
                condition=Q(status="pending"),
            ),
        ]

    def __str__(self) -> str:
        return f"email to {self.to} ({self.status})"
