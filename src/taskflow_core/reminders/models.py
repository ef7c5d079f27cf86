from django.conf import settings
from django.db import models

from taskflow_core.notifications.models import NotificationType


class AlertKind(models.TextChoices):
    DEADLINE_APPROACHING = NotificationType.DEADLINE_APPROACHING.value
    TASK_OVERDUE = NotificationType.TASK_OVERDUE.value


class DeadlineAlert(models.Model):
    """The record that a task's deadline alert went out.

    Unique per (task, kind, due_at): the scan inserts with ON CONFLICT DO NOTHING and notifies
    only for rows it inserted, so overlapping scans cannot alert twice, and a new `due_at`
    value is a new key (moving the deadline re-arms the alerts).
    """

    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    due_at = models.DateTimeField()
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "kind", "due_at"], name="deadline_alert_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} for task {self.task_id} due {self.due_at.isoformat()}"
