from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as staticfiles_serve
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# The busiest first: a request's path is tried against each pattern in turn, and every miss
# before the match costs (the task endpoints carry nearly every write; bench/NOTES.md, "P2").
# No two of these patterns match the same path, so the order changes nothing else.
api_v1: list[URLPattern | URLResolver] = [
    path("", include("taskflow_core.tasks.urls")),
    path("", include("taskflow_core.comments.urls")),
    path("", include("taskflow_core.notifications.urls")),
    path("", include("taskflow_core.teams.urls")),
    path("", include("taskflow_core.accounts.urls")),
    path("", include("taskflow_core.identity.urls")),
    path("", include("taskflow_core.monitoring.urls")),
    path("", include("taskflow_core.common.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("admin/", admin.site.urls),
    # Prometheus; not routed by the gateway (docs/reliability.md).
    path("", include("taskflow_core.monitoring.metrics_urls")),
]
# `make run` without nginx: the core serves /static/ itself (Swagger UI's files included), with
# the local settings only (DEBUG or not); with nginx, and in production, nginx serves them.
if settings.TASKFLOW_SERVE_STATIC:
    urlpatterns += [
        re_path(r"^static/(?P<path>.*)$", staticfiles_serve, {"insecure": True}),
    ]

# JSON, like every other API error, when no view ran at all (e.g. /api/v1/teams/abc/).
handler400 = "taskflow_core.common.http_errors.bad_request"
handler404 = "taskflow_core.common.http_errors.not_found"
handler500 = "taskflow_core.common.http_errors.server_error"
