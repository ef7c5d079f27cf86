from django.apps import AppConfig


class CommentsConfig(AppConfig):
    name = "taskflow_core.comments"
    label = "comments"
