from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q

from taskflow_core.common.text import (
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    multiline_text,
    single_line_text,
)


class Status(models.TextChoices):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"


CLOSED_STATUSES = (Status.DONE, Status.CANCELLED)


class Priority(models.TextChoices):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Task(models.Model):
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=TITLE_MAX_LENGTH, validators=[single_line_text])
    description = models.TextField(
        blank=True,
        default="",
        validators=[MaxLengthValidator(DESCRIPTION_MAX_LENGTH), multiline_text],
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.TODO)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    # Numeric twin of `priority` so that ordering by priority means low < medium < high < urgent.
    priority_rank = models.PositiveSmallIntegerField(default=1, editable=False)
    due_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_tasks"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "status"], name="task_team_status"),
            models.Index(fields=["assignee", "status"], name="task_assignee_status"),
            # The deadline scan reads only open tasks with a deadline.
            models.Index(
                fields=["due_at"],
                name="task_open_due_at",
                condition=Q(due_at__isnull=False) & ~Q(status__in=["done", "cancelled"]),
            ),
        ]

    def __str__(self) -> str:
        return self.title


class TaskActivity(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="activity")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=20)  # created | updated | commented | comment_*
    changes = models.JSONField(default=dict, encoder=DjangoJSONEncoder)  # {field: [old, new]}
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "task activity"

    def __str__(self) -> str:
        return f"{self.verb} task {self.task_id}"


class TaskWatcher(models.Model):
    """Someone who hears about a task: added when they create it, are assigned or mentioned,
    comment on it, or choose to watch; removed when they unwatch or leave the team."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="watchers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watched_tasks"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "user"], name="task_watcher_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} watches task {self.task_id}"


class TeamTaskClock(models.Model):
    """How many times the team's tasks have changed, in a few slots: every create, update and
    delete ticks one slot in its own transaction (`tasks.clock`), and the sum over the slots
    is what the task list's ETag is built from, without reading a task (docs/api.md,
    "Conditional requests"). Slots, because a tick locks its row until the commit: with one row
    per team, concurrent writers of a team would queue behind each other."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="task_clocks")
    slot = models.PositiveSmallIntegerField()
    ticks = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "slot"], name="team_task_clock_slot"),
        ]

    def __str__(self) -> str:
        return f"team {self.team_id} slot {self.slot}: {self.ticks} changes"
