from django.urls import path

from taskflow_core.tasks.apis import (
    TaskActivityListApi,
    TaskDetailApi,
    TaskListCreateApi,
    TaskWatchApi,
    TeamMemberDetailApi,
)

urlpatterns = [
    path("tasks/", TaskListCreateApi.as_view(), name="task-list"),
    path("tasks/<int:task_id>/", TaskDetailApi.as_view(), name="task-detail"),
    path("tasks/<int:task_id>/activity/", TaskActivityListApi.as_view(), name="task-activity"),
    path("tasks/<int:task_id>/watch/", TaskWatchApi.as_view(), name="task-watch"),
    # Removing a member unassigns their tasks, so the tasks app serves it (docs/architecture.md).
    path(
        "teams/<int:team_id>/members/<int:user_id>/",
        TeamMemberDetailApi.as_view(),
        name="team-member-detail",
    ),
]
