from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it describes.

    After commit it is published to Redis; the relay re-publishes rows a crash or an outage
    left unpublished, and prunes published rows after a while.
    """

    name = models.CharField(max_length=50)
    team_id = models.BigIntegerField(null=True)
    actor = models.JSONField(null=True, encoder=DjangoJSONEncoder)  # {"id", "username"}
    data = models.JSONField(encoder=DjangoJSONEncoder)
    recipients = ArrayField(models.BigIntegerField())
    occurred_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    stream_id = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], name="outbox_unpublished", condition=Q(published_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class RelayHeartbeat(models.Model):
    """A relay's last sign of life and its counters, one row per relay process.

    Kept in PostgreSQL, not Redis: the relay is most needed while Redis is away, and a heartbeat
    that stopped with Redis would report a healthy relay as gone. Read by the health check and
    `/metrics` (docs/reliability.md).
    """

    name = models.CharField(max_length=200, primary_key=True)  # host:pid
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()
    # Rows this relay appended to the stream: events the after-commit hook did not publish.
    published_total = models.BigIntegerField(default=0)
    # Rounds that failed on Redis or PostgreSQL (each retried after a backoff).
    failures_total = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"relay {self.name} at {self.beat_at:%H:%M:%S}"
