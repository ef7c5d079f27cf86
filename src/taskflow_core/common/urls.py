from django.urls import path

from taskflow_core.common.index import ApiIndexApi

urlpatterns = [path("", ApiIndexApi.as_view(), name="api-index")]
