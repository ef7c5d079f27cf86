"""Query parameters of `GET /api/v1/tasks/`: every filter and the ordering, validated strictly."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from django import forms
from django.db.models import F, OrderBy, Q, QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters

from taskflow_core.accounts.models import User
from taskflow_core.tasks.models import CLOSED_STATUSES, Priority, Status, Task

BOOLEAN_CHOICES = (("true", "true"), ("false", "false"))

# Public ordering name -> model field; `priority` sorts by rank so low < medium < high < urgent.
ORDERING_FIELDS = {
    "due_at": "due_at",
    "priority": "priority_rank",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


# Ids are PostgreSQL bigints: a value outside them is a 400 naming the parameter, not a query.
ID_MAX = 2**63 - 1


class IdField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=ID_MAX, **kwargs)


class IdFilter(filters.NumberFilter):
    """A whole-number id within the column's range (the stock NumberFilter accepts `1.5`)."""

    field_class = IdField


class AssigneeField(forms.CharField):
    """`me`, `none` (unassigned) or a user id."""

    def clean(self, value: Any) -> str | None:
        cleaned: str | None = super().clean(value)
        if cleaned in (None, "", "me", "none") or (cleaned.isdigit() and len(cleaned) <= 18):
            return cleaned
        raise forms.ValidationError('Enter a user id, "me" or "none".')


class AssigneeFilter(filters.CharFilter):
    field_class = AssigneeField


class TaskOrderingFilter(filters.OrderingFilter):
    """Tasks without a deadline sort last both ways; `id` breaks ties so pages never overlap."""

    def get_ordering_value(self, param: str) -> OrderBy:
        descending = param.startswith("-")
        field = F(self.param_map[param.removeprefix("-")])
        return field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)

    def filter(self, qs: QuerySet[Task], value: list[str] | None) -> QuerySet[Task]:
        if not value:
            return qs
        ordering = [self.get_ordering_value(param) for param in value if param]
        last_descending = value[-1].startswith("-")
        return qs.order_by(*ordering, "-id" if last_descending else "id")


class TaskFilter(filters.FilterSet):
    """Filters a queryset of tasks the caller may already see; `user` is who `me` means."""

    team = IdFilter(field_name="team_id")
    status = filters.ChoiceFilter(choices=Status.choices)
    assignee = AssigneeFilter(method="filter_assignee")
    priority = filters.ChoiceFilter(choices=Priority.choices)
    due_before = filters.DateTimeFilter(field_name="due_at", lookup_expr="lte")
    due_after = filters.DateTimeFilter(field_name="due_at", lookup_expr="gte")
    overdue = filters.ChoiceFilter(choices=BOOLEAN_CHOICES, method="filter_overdue")
    search = filters.CharFilter(method="filter_search")
    # django-filter wants {model field: parameter name}.
    ordering = TaskOrderingFilter(fields={field: name for name, field in ORDERING_FIELDS.items()})

    class Meta:
        model = Task
        fields: list[str] = []

    def __init__(self, data: Any, queryset: QuerySet[Task], *, user: User) -> None:
        super().__init__(data, queryset)
        self.user = user

    def get_form_class(self) -> type[forms.Form]:
        """Built once: django-filter builds the form class (and every filter's form field) per
        request, about a fifth of a list's CPU (bench/NOTES.md, "P2"). Sharing it is safe: the
        filters here do not depend on the request, and each form copies its fields."""
        return _task_filter_form()

    def filter_assignee(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset.filter(assignee_id=self.user.pk if value == "me" else int(value))

    def filter_overdue(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        overdue = Q(due_at__lt=timezone.now()) & ~Q(status__in=CLOSED_STATUSES)
        return queryset.filter(overdue) if value == "true" else queryset.exclude(overdue)

    def filter_search(self, queryset: QuerySet[Task], name: str, value: str) -> QuerySet[Task]:
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))


class ShallowCopies(dict[str, Any]):
    """A class's filters (or form fields) that copy themselves shallowly when an instance is
    made. django-filter deep-copies every filter for each FilterSet, and Django every form
    field for each form: deep copies of the widgets, validators and choices of nine filters
    were a tenth of a list's CPU (bench/NOTES.md, "P2"). An instance sets its own attributes on
    its copies (a filter's `parent`), which a shallow copy keeps apart; nothing here mutates
    what the copies share (the widgets are never rendered)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return {name: _copy(value) for name, value in self.items()}


def _copy(value: Any) -> Any:
    duplicate = copy.copy(value)
    if isinstance(value, filters.Filter) and value.method is not None:
        duplicate.method = value.method  # its `FilterMethod` must call the copy's parent
    return duplicate


TaskFilter.base_filters = ShallowCopies(TaskFilter.base_filters)


@cache
def _task_filter_form() -> type[forms.Form]:
    fields = {name: filter_.field for name, filter_ in TaskFilter.base_filters.items()}
    form: type[forms.Form] = type("TaskFilterForm", (TaskFilter._meta.form,), fields)
    form.base_fields = ShallowCopies(form.base_fields)
    return form
