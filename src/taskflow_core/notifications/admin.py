"""Admin for the inbox: read-only (services write notifications), plus a "mark as read" action."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from taskflow_core.notifications.models import Notification
from taskflow_core.notifications.services import notification_mark_read

# The stubs make these generic; at runtime they are plain classes (no django_stubs_ext needed).
if TYPE_CHECKING:
    _NotificationAdminBase = admin.ModelAdmin[Notification]
else:
    _NotificationAdminBase = admin.ModelAdmin

FIELDS = ("recipient", "type", "task", "actor", "message", "created_at", "read_at", "email")


@admin.register(Notification)
class NotificationAdmin(_NotificationAdminBase):
    list_display = ("recipient", "type", "task", "actor", "created_at", "read_at")
    list_filter = ("type", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("recipient__username", "message")
    list_select_related = ("recipient", "task", "actor")
    fields = FIELDS
    readonly_fields = FIELDS
    actions = ("mark_read",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Mark selected notifications as read", permissions=["view"])
    def mark_read(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        for notification in queryset:
            notification_mark_read(notification=notification)
