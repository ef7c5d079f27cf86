from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "taskflow_core.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"
