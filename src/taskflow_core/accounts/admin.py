from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError

from taskflow_core.accounts.models import User

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
            {"fields": ("email_notifications", "email_types", "email_delay_minutes")},
        ),
    )
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
