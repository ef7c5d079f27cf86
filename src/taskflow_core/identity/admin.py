"""The admin of users. It lives here, above `accounts`, because deactivating a user or setting
their password from the admin revokes their sessions like the API does (`identity.services`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from taskflow_core.accounts.models import User
from taskflow_core.identity.services import user_deactivate, user_sessions_revoke

# The stubs make these generic; at runtime they are plain classes (no django_stubs_ext needed).
if TYPE_CHECKING:
    _UserAdminBase = DjangoUserAdmin[User]
    _CreationFormBase = AdminUserCreationForm[User]
    _ChangeFormBase = UserChangeForm[User]
else:
    _UserAdminBase = DjangoUserAdmin
    _CreationFormBase = AdminUserCreationForm
    _ChangeFormBase = UserChangeForm


class UserCreationAdminForm(_CreationFormBase):
    """Django's form is bound to `auth.User`; ours asks for the (unique) email as well."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        # Registration treats addresses case-insensitively; so does the admin.
        email: str = User.objects.normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("A user with that email already exists.")
        return email


class UserChangeAdminForm(_ChangeFormBase):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(_UserAdminBase):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (
            "Notifications",
            {
                "fields": (
                    "email_notifications",
                    "email_types",
                    "email_delay_minutes",
                    "email_verified_at",
                )
            },
        ),
        ("Sessions", {"fields": ("tokens_valid_after",)}),
    )
    readonly_fields = ("tokens_valid_after",)
    actions = ("deactivate",)
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("username", "email", "email_notifications", "is_active", "is_staff")
    list_filter = ("email_notifications", *DjangoUserAdmin.list_filter)

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_deactivate(user=obj)  # ends every session the user had, sockets included

    @admin.action(description="Deactivate the selected users (ends their sessions)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        with transaction.atomic():
            users = list(queryset)
            for user in users:
                user_deactivate(user=user)
        self.message_user(request, f"Deactivated {len(users)} user(s).", messages.SUCCESS)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = User.objects.filter(pk=id).first()
            if user is not None:  # a new password ends the old sessions, as through the API
                user_sessions_revoke(user=user)
        return response
