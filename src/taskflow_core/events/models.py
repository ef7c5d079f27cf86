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
