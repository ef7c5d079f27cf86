from django.urls import path

from taskflow_core.monitoring.health import HealthApi

urlpatterns = [path("health/", HealthApi.as_view(), name="health")]
