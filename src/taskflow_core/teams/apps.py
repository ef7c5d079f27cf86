from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "taskflow_core.teams"
    label = "teams"
