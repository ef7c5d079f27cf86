from django.urls import path

from taskflow_core.monitoring.metrics import metrics

urlpatterns = [path("metrics", metrics, name="metrics")]
