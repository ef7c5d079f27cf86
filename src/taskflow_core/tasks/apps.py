from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "taskflow_core.tasks"
    label = "tasks"
