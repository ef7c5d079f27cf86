from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "taskflow_core.events"
    label = "events"
