from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The outcome of one POST sent with an `Idempotency-Key` (docs/api.md, "Retries").

    Written in the same transaction as the work the request did, so either both exist or
    neither does: a request killed mid-way leaves no record, and its retry does the work.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # sha256 of method, path, query string and body: the same key with another request is 422.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100)
    body = models.BinaryField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key"),
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_expires")]

    def __str__(self) -> str:
        return f"{self.key} of user {self.user_id} ({self.status_code})"
