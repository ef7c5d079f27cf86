from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "taskflow_core.notifications"
    label = "notifications"
