"""Comments over HTTP: a task's thread, and editing or deleting one comment. A comment on a
task of a team you are not in does not exist for you (404)."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskflow_core.accounts.authentication import request_user
from taskflow_core.comments.models import BODY_MAX_LENGTH
from taskflow_core.comments.selectors import comment_get, comment_list
from taskflow_core.comments.serializers import CommentOutputSerializer
from taskflow_core.comments.services import comment_create, comment_delete, comment_update
from taskflow_core.common.fields import JsonStringField
from taskflow_core.common.openapi import error_responses
from taskflow_core.common.pagination import Pagination, paginated_response
from taskflow_core.common.text import NoControlCharacters
from taskflow_core.tasks.models import Task
from taskflow_core.tasks.selectors import task_get


class CommentInputSerializer(serializers.Serializer[Any]):
    body = JsonStringField(
        max_length=BODY_MAX_LENGTH,
        trim_whitespace=False,
        validators=[NoControlCharacters()],
        help_text="1-10,000 characters; `@username` mentions a member of the task's team. "
        "No control characters except newline and tab.",
    )

    class Meta:
        ref_name = "CommentInput"

    def validate_body(self, body: str) -> str:
        if not body.strip():
            raise serializers.ValidationError("This field may not be blank.", code="blank")
        return body

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name[:100]: ["Unknown or read-only field."] for name in unknown[:10]}
            )
        return attrs


def _visible_task(request: Request, task_id: int) -> Task:
    task = task_get(user=request_user(request), task_id=task_id)
    if task is None:
        raise Http404
    return task


class TaskCommentListCreateApi(APIView):
    pagination_class = Pagination  # read by the schema generator

    @extend_schema(
        operation_id="tasks_comments_list",
        summary="A task's comments, oldest first",
        responses={200: CommentOutputSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, task_id: int) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=comment_list(task=_visible_task(request, task_id)),
            serializer_class=CommentOutputSerializer,
        )

    @extend_schema(
        operation_id="tasks_comments_create",
        summary="Comment on a task",
        description="Every member's socket gets `comment.created`. Members mentioned with "
        "`@username` get a `mentioned` notification; the task's other watchers get "
        "`task_commented`; never the author. The author and the mentioned become watchers.",
        request=CommentInputSerializer,
        responses={201: CommentOutputSerializer, **error_responses(400, 401, 404)},
    )
    def post(self, request: Request, task_id: int) -> Response:
        task = _visible_task(request, task_id)
        serializer = CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = comment_create(
            task_id=task.pk, author=request_user(request), body=serializer.validated_data["body"]
        )
        response = Response(CommentOutputSerializer(comment).data, status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/comments/{comment.pk}/"
        return response


class CommentDetailApi(APIView):
    def _comment(self, request: Request, comment_id: int) -> Any:
        comment = comment_get(user=request_user(request), comment_id=comment_id)
        if comment is None:
            raise Http404
        return comment

    @extend_schema(
        operation_id="comments_retrieve",
        summary="Read one comment",
        responses={200: CommentOutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, comment_id: int) -> Response:
        return Response(CommentOutputSerializer(self._comment(request, comment_id)).data)

    @extend_schema(
        operation_id="comments_partial_update",
        summary="Edit my comment (its author only)",
        description="Sets `edited`. Members mentioned for the first time in this comment are "
        "notified; nobody is notified twice for one comment.",
        request=CommentInputSerializer,
        responses={200: CommentOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, comment_id: int) -> Response:
        comment = self._comment(request, comment_id)
        serializer = CommentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = comment_update(
            comment_id=comment.pk,
            actor=request_user(request),
            body=serializer.validated_data["body"],
        )
        return Response(CommentOutputSerializer(comment).data)

    @extend_schema(
        operation_id="comments_destroy",
        summary="Delete a comment (its author, or a team owner/admin)",
        request=None,
        responses={
            204: OpenApiResponse(description="Deleted."),
            **error_responses(401, 403, 404),
        },
    )
    def delete(self, request: Request, comment_id: int) -> Response:
        comment = self._comment(request, comment_id)
        comment_delete(comment_id=comment.pk, actor=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
