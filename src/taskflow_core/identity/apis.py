"""Account workflows over HTTP: register, verify the address, change the password, log out
everywhere. Every one of them is throttled (common/throttling.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskflow_core.accounts.apis import PASSWORD_MAX_LENGTH, PublicAuthApi, UserOutputSerializer
from taskflow_core.accounts.authentication import request_user
from taskflow_core.accounts.services import user_email_verify
from taskflow_core.accounts.verification import TOKEN_MAX_LENGTH
from taskflow_core.common.openapi import error_responses
from taskflow_core.common.text import USERNAME_MAX_LENGTH
from taskflow_core.common.throttling import (
    EmailVerificationResendThrottle,
    EmailVerifyThrottle,
    PasswordThrottle,
    RegisterThrottle,
)
from taskflow_core.identity.services import (
    user_email_verification_send,
    user_logout_all,
    user_password_change,
    user_register,
)


def _password_field() -> serializers.CharField:
    return serializers.CharField(
        max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False, style={"input_type": "password"}
    )


class UserRegisterApi(PublicAuthApi):
    throttle_classes = (RegisterThrottle,)

    class InputSerializer(serializers.Serializer[Any]):
        username = serializers.CharField(
            max_length=USERNAME_MAX_LENGTH, validators=[UnicodeUsernameValidator()]
        )
        email = serializers.EmailField(max_length=254)
        password = _password_field()

        class Meta:
            ref_name = "UserRegisterInput"

    @extend_schema(
        operation_id="auth_register",
        summary="Create an account",
        description="The password must pass the server's password validators. The username is "
        "NFKC-normalised; usernames and addresses are unique ignoring case. A verification "
        "email goes to the address: notification emails are sent only once it is verified.",
        request=InputSerializer,
        responses={201: UserOutputSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_register(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class EmailVerifyApi(PublicAuthApi):
    throttle_classes = (EmailVerifyThrottle,)

    class InputSerializer(serializers.Serializer[Any]):
        token = serializers.CharField(max_length=TOKEN_MAX_LENGTH)

        class Meta:
            ref_name = "EmailVerifyInput"

    @extend_schema(
        operation_id="auth_verify_email",
        summary="Confirm an email address with the token emailed to it",
        description="Needs no access token: the token is the proof. It expires (3 days by "
        "default) and works once; an invalid, expired or used token is a 400 naming `token`.",
        request=InputSerializer,
        responses={
            204: OpenApiResponse(description="The address is verified."),
            **error_responses(400, 429),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_email_verify(token=serializer.validated_data["token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailVerificationResendApi(APIView):
    throttle_classes = (EmailVerificationResendThrottle,)

    @extend_schema(
        operation_id="auth_verify_email_resend",
        summary="Send the verification email again",
        description="202 whether or not an email goes: none does for an address already "
        "verified. Throttled per user.",
        request=None,
        responses={
            202: OpenApiResponse(description="A verification email is on its way."),
            **error_responses(401, 429),
        },
    )
    def post(self, request: Request) -> Response:
        user_email_verification_send(user=request_user(request))
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordChangeApi(APIView):
    throttle_classes = (PasswordThrottle,)

    class InputSerializer(serializers.Serializer[Any]):
        old_password = _password_field()
        new_password = _password_field()

        class Meta:
            ref_name = "PasswordChangeInput"

    @extend_schema(
        operation_id="auth_password_change",
        summary="Change my password; every session of mine ends",
        description="Every refresh token of the user stops working, access tokens issued "
        "before are refused (401), and open sockets close with 4401 within a second. Sign "
        "in again with the new password. A wrong `old_password` or a weak `new_password` is "
        "a 400 naming it.",
        request=InputSerializer,
        responses={
            204: OpenApiResponse(description="Changed; sign in again."),
            **error_responses(400, 401, 429),
        },
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_password_change(user=request_user(request), **serializer.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllApi(APIView):
    throttle_classes = (PasswordThrottle,)

    @extend_schema(
        operation_id="auth_logout_all",
        summary="Log out everywhere",
        description="The same revocation as a password change, without changing it.",
        request=None,
        responses={
            204: OpenApiResponse(description="Every session has ended."),
            **error_responses(401, 429),
        },
    )
    def post(self, request: Request) -> Response:
        user_logout_all(user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
