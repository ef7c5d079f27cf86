from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "taskflow_core.accounts"
    label = "accounts"
