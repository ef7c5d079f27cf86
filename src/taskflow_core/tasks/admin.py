"""Admin for tasks: edits go through the services, so version, activity, events and
notifications follow exactly as they do for the API; the activity log is read-only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import Task, TaskActivity
from taskflow_core.tasks.services import (
    EDITABLE_FIELDS,
    task_assignee_validate,
    task_create,
    task_update,
)

# The stubs make these generic; at runtime they are plain classes (no django_stubs_ext needed).
if TYPE_CHECKING:
    _TaskAdminBase = admin.ModelAdmin[Task]
    _ActivityAdminBase = admin.ModelAdmin[TaskActivity]
    _ActivityInlineBase = admin.TabularInline[TaskActivity, Task]
    _TaskFormBase = forms.ModelForm[Task]
else:
    _TaskAdminBase = admin.ModelAdmin
    _ActivityAdminBase = admin.ModelAdmin
    _ActivityInlineBase = admin.TabularInline
    _TaskFormBase = forms.ModelForm

ACTIVITY_FIELDS = ("created_at", "actor", "verb", "changes")


class ReadOnlyMixin:
    """Rows that only services write: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TaskActivityInline(ReadOnlyMixin, _ActivityInlineBase):
    model = TaskActivity
    fields = ACTIVITY_FIELDS
    readonly_fields = ACTIVITY_FIELDS
    extra = 0


class TaskAdminForm(_TaskFormBase):
    class Meta:
        model = Task
        fields = ("team", *EDITABLE_FIELDS)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        team = cleaned.get("team") or (self.instance.team if self.instance.pk else None)
        if team is not None:
            try:
                task_assignee_validate(team_id=team.pk, assignee=cleaned.get("assignee"))
            except ValidationError as error:
                self.add_error(None, error)  # lands on `assignee`, as the service names it
        return cleaned


@admin.register(Task)
class TaskAdmin(_TaskAdminBase):
    form = TaskAdminForm
    list_display = ("title", "id", "team", "status", "priority", "assignee", "due_at", "version")
    list_filter = ("status", "priority", ("due_at", admin.EmptyFieldListFilter), "team")
    search_fields = ("title", "description")
    list_select_related = ("team", "assignee")
    autocomplete_fields = ("team", "assignee")
    readonly_fields = ("created_by", "created_at", "updated_at", "completed_at", "version")
    inlines = (TaskActivityInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Task | None = None) -> Any:
        # A task never moves to another team.
        return (*self.readonly_fields, "team") if obj else self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Task | None = None) -> bool:
        # Deleting is the API's job (creator or team owner/admin), which also tells live boards.
        return False

    def save_model(self, request: HttpRequest, obj: Task, form: Any, change: bool) -> None:
        actor = cast(User, request.user)
        values = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS}
        if change:
            changed = {name: values[name] for name in form.changed_data if name in values}
            saved = task_update(task_id=obj.pk, actor=actor, data=changed)
        else:
            # Staff create tasks in any team, member or not.
            saved = task_create(
                team=form.cleaned_data["team"], actor=actor, actor_must_be_member=False, **values
            )
        # The admin goes on with `obj` (log entry, redirect): make it the saved row.
        for field in Task._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False


@admin.register(TaskActivity)
class TaskActivityAdmin(ReadOnlyMixin, _ActivityAdminBase):
    list_display = ("task", "verb", "actor", "created_at")
    list_filter = ("verb",)
    search_fields = ("task__title", "actor__username")
    list_select_related = ("task", "actor")
    fields = ("task", *ACTIVITY_FIELDS)
    readonly_fields = fields
