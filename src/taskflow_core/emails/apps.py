from django.apps import AppConfig


class EmailsConfig(AppConfig):
    name = "taskflow_core.emails"
    label = "emails"
    verbose_name = "Emails"
