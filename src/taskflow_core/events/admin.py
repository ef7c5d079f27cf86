from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from taskflow_core.events.models import OutboxEvent

if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[OutboxEvent]
else:
    ModelAdminBase = admin.ModelAdmin


@admin.register(OutboxEvent)
class OutboxEventAdmin(ModelAdminBase):
    """Read-only: outbox rows are written by services and published after commit or by the
    relay; the published/unpublished filter shows what the relay still has to do."""

    list_display = ["id", "name", "team_id", "occurred_at", "published_at", "stream_id"]
    list_filter = ["name", ("published_at", admin.EmptyFieldListFilter)]
    search_fields = ["stream_id"]
    ordering = ["-id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxEvent | None = None) -> bool:
        return False
