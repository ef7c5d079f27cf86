"""The comment's public representation, shared by the REST API and the `comment.*` events."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from taskflow_core.comments.models import Comment
from taskflow_core.notifications.serializers import ActorSerializer
from taskflow_events.payloads import COMMENT_BODY_PREVIEW_CHARS


class CommentOutputSerializer(serializers.ModelSerializer[Comment]):
    author = ActorSerializer()
    mentions = serializers.ListField(
        child=serializers.IntegerField(), help_text="Ids of the team members the body mentions."
    )
    edited = serializers.BooleanField(help_text="Whether the body was changed after posting.")

    class Meta:
        model = Comment
        fields = ["id", "task", "author", "body", "mentions", "created_at", "updated_at", "edited"]
        read_only_fields = fields


def comment_payload(comment: Comment) -> dict[str, Any]:
    return dict(CommentOutputSerializer(comment).data)


def comment_event_payload(comment: Comment) -> dict[str, Any]:
    """The comment as `comment.*` events carry it: the body cut to a preview (and flagged), so
    that no event grows with the text (docs/events.md "Bounds")."""
    payload = comment_payload(comment)
    payload["body_truncated"] = len(comment.body) > COMMENT_BODY_PREVIEW_CHARS
    payload["body"] = comment.body[:COMMENT_BODY_PREVIEW_CHARS]
    return payload
