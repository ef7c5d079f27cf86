from django.urls import path

from taskflow_core.tasks.apis import (
    TaskActivityListApi,
    TaskDetailApi,
    TaskListCreateApi,
    TaskWatchApi,
)

urlpatterns = [
    path("tasks/", TaskListCreateApi.as_view(), name="task-list"),
    path("tasks/<int:task_id>/", TaskDetailApi.as_view(), name="task-detail"),
    path("tasks/<int:task_id>/activity/", TaskActivityListApi.as_view(), name="task-activity"),
    path("tasks/<int:task_id>/watch/", TaskWatchApi.as_view(), name="task-watch"),
]
