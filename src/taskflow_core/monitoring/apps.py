from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "taskflow_core.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring"
