from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxLengthValidator
from django.db import models

from taskflow_core.common.text import NoControlCharacters

BODY_MAX_LENGTH = 10_000


class Comment(models.Model):
    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments"
    )
    body = models.TextField(validators=[MaxLengthValidator(BODY_MAX_LENGTH), NoControlCharacters()])
    # Ids of the team members the body mentions now, for clients to highlight.
    mentions = ArrayField(models.BigIntegerField(), default=list, blank=True)
    # Everyone a mention in this comment ever notified: an edit notifies only the new ones.
    mentions_notified = ArrayField(models.BigIntegerField(), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    edited = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["task", "created_at", "id"], name="comment_thread")]

    def __str__(self) -> str:
        return f"comment {self.pk} on task {self.task_id}"
