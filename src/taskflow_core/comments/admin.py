"""Comments in the admin: read-only (the services write them, with their events)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest

from taskflow_core.comments.models import Comment

if TYPE_CHECKING:
    _CommentAdminBase = admin.ModelAdmin[Comment]
else:
    _CommentAdminBase = admin.ModelAdmin

FIELDS = ("task", "author", "body", "mentions", "created_at", "updated_at", "edited")


@admin.register(Comment)
class CommentAdmin(_CommentAdminBase):
    list_display = ("id", "task", "author", "created_at", "edited")
    search_fields = ("body", "author__username")
    list_select_related = ("task", "author")
    fields = FIELDS
    readonly_fields = FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
