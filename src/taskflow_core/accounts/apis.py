"""Accounts over HTTP: register, JWT obtain/refresh/logout, the current user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import OpenApiResponse, extend_schema
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
    user_create,
)
from taskflow_core.common.openapi import error_responses

# A generous bound that still keeps a hostile body from costing a long password hash.
PASSWORD_MAX_LENGTH = 4096


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


class UserRegisterApi(PublicAuthApi):
    class InputSerializer(serializers.Serializer[Any]):
        username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(
            max_length=PASSWORD_MAX_LENGTH, trim_whitespace=False, style={"input_type": "password"}
        )

        class Meta:
            ref_name = "UserRegisterInput"

    @extend_schema(
        operation_id="auth_register",
        summary="Create an account",
        description="The password must pass the server's password validators.",
        request=InputSerializer,
        responses={201: UserOutputSerializer, **error_responses(400)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_create(**serializer.validated_data)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(PublicAuthApi):
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
        responses={200: TokenPairSerializer, **error_responses(400, 401)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if not isinstance(user, User):
            raise AuthenticationFailed(
                "No active account found with the given credentials.", code="no_active_account"
            )
        pair = token_pair_issue(user=user)
        return Response(TokenPairSerializer(pair).data)


class TokenRefreshApi(PublicAuthApi):
    @extend_schema(
        operation_id="auth_token_refresh",
        summary="Trade a refresh token for a new pair",
        description="Each refresh token works once: the one sent is revoked and a new one "
        "returned. A used, revoked (logged out), expired or invalid token gives 401.",
        request=RefreshInputSerializer,
        responses={200: TokenPairSerializer, **error_responses(400, 401)},
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
    @extend_schema(
        operation_id="auth_logout",
        summary="Log out: revoke a refresh token",
        description="Needs no access token (it may have expired): holding the refresh token is "
        "the proof. Logging out an already revoked token again is a 204 too; anything that is "
        "not a live refresh token issued by this server (garbage, expired, an access token) is "
        "a 400 naming `refresh`. Access tokens already issued stay valid until they expire.",
        request=RefreshInputSerializer,
        responses={
            204: OpenApiResponse(description="The refresh token is revoked."),
            **error_responses(400),
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
        responses={200: UserOutputSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request_user(request)).data)
