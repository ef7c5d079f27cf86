from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from taskflow_core.emails.models import EmailDelivery

# The admin is generic only for the type checker.
if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[EmailDelivery]
else:
    ModelAdminBase = admin.ModelAdmin


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ModelAdminBase):
    list_display = ["id", "to", "subject", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status"]
    search_fields = ["to", "subject", "last_error"]
    readonly_fields = [
        "to",
        "recipient",
        "subject",
        "body_text",
        "body_html",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "updated_at",
        "sent_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
