from typing import TYPE_CHECKING

from django.contrib import admin
from django.http import HttpRequest

from taskflow_core.reminders.models import DeadlineAlert

# The admin is generic only for the type checker.
if TYPE_CHECKING:
    ModelAdminBase = admin.ModelAdmin[DeadlineAlert]
else:
    ModelAdminBase = admin.ModelAdmin


@admin.register(DeadlineAlert)
class DeadlineAlertAdmin(ModelAdminBase):
    list_display = ["id", "task", "kind", "due_at", "recipient", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["task", "recipient"]
    readonly_fields = ["task", "kind", "due_at", "recipient", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
