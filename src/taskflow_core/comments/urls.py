from django.urls import path

from taskflow_core.comments.apis import CommentDetailApi, TaskCommentListCreateApi

urlpatterns = [
    path(
        "tasks/<int:task_id>/comments/",
        TaskCommentListCreateApi.as_view(),
        name="task-comments",
    ),
    path("comments/<int:comment_id>/", CommentDetailApi.as_view(), name="comment-detail"),
]
