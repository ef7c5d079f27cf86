from django.urls import path

from taskflow_core.identity.apis import (
    EmailVerificationResendApi,
    EmailVerifyApi,
    LogoutAllApi,
    PasswordChangeApi,
    UserRegisterApi,
)

urlpatterns = [
    path("auth/register/", UserRegisterApi.as_view(), name="auth-register"),
    path("auth/verify-email/", EmailVerifyApi.as_view(), name="auth-verify-email"),
    path(
        "auth/verify-email/resend/",
        EmailVerificationResendApi.as_view(),
        name="auth-verify-email-resend",
    ),
    path("auth/password/", PasswordChangeApi.as_view(), name="auth-password"),
    path("auth/logout-all/", LogoutAllApi.as_view(), name="auth-logout-all"),
]
