from django.urls import path

from taskflow_core.accounts.apis import (
    LogoutApi,
    TokenObtainApi,
    TokenRefreshApi,
    UserMeApi,
)

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh/", TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", LogoutApi.as_view(), name="auth-logout"),
    path("users/me/", UserMeApi.as_view(), name="users-me"),
]
