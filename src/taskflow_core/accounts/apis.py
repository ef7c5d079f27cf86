"""Accounts over HTTP: JWT obtain/refresh/logout and the current user. (Registration,
verification, password change and logout-all are `identity.apis`.)"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import AUTH_HEADER_TYPES
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from taskflow_core.accounts.authentication import request_user
from taskflow_core.accounts.models import User
from taskflow_core.accounts.services import (
    token_blacklist,
    token_pair_issue,
    token_pair_refresh,
    username_normalize,
)
from taskflow_core.common.openapi import ErrorDetail, error_responses
from taskflow_core.common.throttling import LoginThrottle, RefreshThrottle

# A generous bound that still keeps a hostile body from costing a long password hash.
PASSWORD_MAX_LENGTH = 4096


NO_ACTIVE_ACCOUNT = "No active account found with the given credentials."

CREDENTIALS_REFUSED = OpenApiResponse(
    response=ErrorDetail,
    description="Wrong username or password, or the account is inactive: "
    f'`{{"detail": "{NO_ACTIVE_ACCOUNT}"}}`.',
)
REFRESH_REFUSED = OpenApiResponse(
    response=inline_serializer(
        "RefreshRefused",
        {
            "detail": serializers.CharField(
                help_text='Why, e.g. "Token is blacklisted" (already used, or logged out), '
                '"Token is expired", "Token has wrong type" (an access token), "Token is invalid"'
            ),
            "code": serializers.ChoiceField(choices=["token_not_valid"]),
        },
    ),
    description="The refresh token was already used, is revoked (logged out), expired, not a "
    "refresh token, or not a token at all; or its account is gone or inactive: "
    '`{"detail": "Token is blacklisted", "code": "token_not_valid"}`. Sign in again.',
)


class PublicAuthApi(APIView):
    """Endpoints called without an access token: the client is getting or giving one up."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request: Request) -> str:
        # Without a challenge DRF would turn our 401s into 403s.
        return f'{AUTH_HEADER_TYPES[0]} realm="api"'


class TokenPairSerializer(serializers.Serializer[Any]):
    access = serializers.CharField()
    refresh = serializers.CharField()

    class Meta:
        ref_name = "TokenPair"


class RefreshInputSerializer(serializers.Serializer[Any]):
    refresh = serializers.CharField(max_length=PASSWORD_MAX_LENGTH)

    class Meta:
        ref_name = "RefreshTokenInput"


class UserOutputSerializer(serializers.Serializer[User]):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()

    class Meta:
        ref_name = "User"


class MeOutputSerializer(UserOutputSerializer):
    email_verified = serializers.BooleanField(
        help_text="Whether the address is confirmed; notification emails go only to "
        "verified addresses."
    )

    class Meta:
        ref_name = "Me"


class TokenObtainApi(PublicAuthApi):
    throttle_classes = (LoginThrottle,)

    class InputSerializer(serializers.Serializer[Any]):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(
            max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False, style={"input_type": "password"}
        )

        class Meta:
            ref_name = "TokenObtainInput"

    @extend_schema(
        operation_id="auth_token_obtain",
        summary="Sign in: trade username and password for an access and a refresh token",
        request=InputSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 429), 401: CREDENTIALS_REFUSED},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = serializer.validated_data
        user = authenticate(
            request._request,
            username=username_normalize(credentials["username"]),
            password=credentials["password"],
        )
        if not isinstance(user, User):
            raise AuthenticationFailed(NO_ACTIVE_ACCOUNT, code="no_active_account")
        pair = token_pair_issue(user=user)
        return Response(TokenPairSerializer(pair).data)


class TokenRefreshApi(PublicAuthApi):
    throttle_classes = (RefreshThrottle,)

    @extend_schema(
        operation_id="auth_token_refresh",
        summary="Trade a refresh token for a new pair",
        description="Each refresh token works once: the one sent is revoked and a new one "
        "returned. A used, revoked (logged out), expired or invalid token gives 401.",
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 429), 401: REFRESH_REFUSED},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            pair = token_pair_refresh(refresh=serializer.validated_data["refresh"])
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return Response(TokenPairSerializer(pair).data)


class LogoutApi(PublicAuthApi):
    throttle_classes = (RefreshThrottle,)

    @extend_schema(
        operation_id="auth_logout",
        summary="Log out: revoke a refresh token",
        description="Needs no access token (it may have expired): holding the refresh token is "
        "the proof. Logging out an already revoked token again is a 204 too; anything that is "
        "not a live refresh token issued by this server (garbage, expired, an access token) is "
        "a 400 naming `refresh`. Access tokens already issued stay valid until they expire "
        "(`POST /api/v1/auth/logout-all/` ends those too).",
        request=RefreshInputSerializer,
        responses={
            204: OpenApiResponse(description="The refresh token is revoked."),
            **error_responses(400, 429),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = RefreshInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            token_blacklist(refresh=serializer.validated_data["refresh"])
        except TokenError as exc:
            raise ValidationError({"refresh": [exc.args[0]]}) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserMeApi(APIView):
    @extend_schema(
        operation_id="users_me",
        summary="The signed-in user",
        responses={200: MeOutputSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(MeOutputSerializer(request_user(request)).data)
