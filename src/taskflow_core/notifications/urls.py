from django.urls import path

from taskflow_core.notifications.apis import (
    NotificationListApi,
    NotificationReadAllApi,
    NotificationReadApi,
    NotificationUnreadCountApi,
    PreferencesApi,
)

urlpatterns = [
    path("users/me/preferences/", PreferencesApi.as_view(), name="users-me-preferences"),
    path("notifications/", NotificationListApi.as_view(), name="notification-list"),
    path(
        "notifications/unread-count/",
        NotificationUnreadCountApi.as_view(),
        name="notification-unread-count",
    ),
    path("notifications/read-all/", NotificationReadAllApi.as_view(), name="notification-read-all"),
    path(
        "notifications/<int:notification_id>/read/",
        NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
