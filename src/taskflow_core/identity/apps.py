from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "taskflow_core.identity"
    label = "identity"
