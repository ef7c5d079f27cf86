from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from taskflow_core.teams.models import Membership, Team

# The stubs make these generic; at runtime they are plain classes (no django_stubs_ext needed).
if TYPE_CHECKING:
    _TeamAdminBase = admin.ModelAdmin[Team]
    _MembershipAdminBase = admin.ModelAdmin[Membership]
    _MembershipInlineBase = admin.TabularInline[Membership, Team]
else:
    _TeamAdminBase = admin.ModelAdmin
    _MembershipAdminBase = admin.ModelAdmin
    _MembershipInlineBase = admin.TabularInline


class MembershipInline(_MembershipInlineBase):
    model = Membership
    extra = 0
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)


@admin.register(Team)
class TeamAdmin(_TeamAdminBase):
    list_display = ("name", "id", "created_at")
    search_fields = ("name",)
    inlines = (MembershipInline,)


@admin.register(Membership)
class MembershipAdmin(_MembershipAdminBase):
    list_display = ("team", "user", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("team__name", "user__username", "user__email")
    list_select_related = ("team", "user")
    autocomplete_fields = ("team", "user")
