from django.db import models
from django.db.models import Q


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class EmailDelivery(models.Model):
    """One email, rendered when it was queued: its attempts, outcome and last error.

    The row is written in the transaction that decides the email is due and locked by whichever
    worker sends it, so a retried or duplicated job never sends an email that already went out.
    What the email is about is the writer's business: this app knows addresses and text only.
    """

    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
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
            # The requeue sweep reads only pending rows by their due time.
            models.Index(
                fields=["next_attempt_at"],
                name="email_delivery_pending",
                condition=Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"email to {self.to} ({self.status})"
