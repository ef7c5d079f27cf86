from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "taskflow_core.reminders"
    label = "reminders"
    verbose_name = "Deadline reminders"
