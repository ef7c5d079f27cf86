"""Teams over HTTP. A team you are not a member of answers 404 to everything."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskflow_core.accounts.authentication import request_user
from taskflow_core.common.openapi import error_responses
from taskflow_core.common.pagination import Pagination, paginated_response
from taskflow_core.common.text import TEAM_NAME_MAX_LENGTH, single_line_text
from taskflow_core.teams.models import ADDABLE_ROLES, MANAGING_ROLES, Role, Team
from taskflow_core.teams.selectors import team_get_for_user, team_list_for_user, team_member_list
from taskflow_core.teams.serializers import MemberOutputSerializer
from taskflow_core.teams.services import membership_role, team_create, team_member_add


class TeamOutputSerializer(serializers.Serializer[Team]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    role = serializers.ChoiceField(
        source="my_role", choices=Role.choices, help_text="Your role in this team."
    )
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Team"


class TeamListCreateApi(APIView):
    pagination_class = Pagination  # read by the schema generator

    class InputSerializer(serializers.Serializer[Any]):
        name = serializers.CharField(max_length=TEAM_NAME_MAX_LENGTH, validators=[single_line_text])

        class Meta:
            ref_name = "TeamCreateInput"

    @extend_schema(
        operation_id="teams_list",
        summary="The teams I belong to, by name, each with my role",
        responses={200: TeamOutputSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=team_list_for_user(user=request_user(request)),
            serializer_class=TeamOutputSerializer,
        )

    @extend_schema(
        operation_id="teams_create",
        summary="Create a team; I become its owner",
        request=InputSerializer,
        responses={201: TeamOutputSerializer, **error_responses(400, 401)},
    )
    def post(self, request: Request) -> Response:
        user = request_user(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = team_create(name=serializer.validated_data["name"], creator=user)
        team = team_get_for_user(user=user, team_id=team.pk)
        return Response(TeamOutputSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamDetailApi(APIView):
    @extend_schema(
        operation_id="teams_retrieve",
        summary="One of my teams, with my role in it",
        responses={200: TeamOutputSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, team_id: int) -> Response:
        team = team_get_for_user(user=request_user(request), team_id=team_id)
        return Response(TeamOutputSerializer(team).data)


class TeamMemberListAddApi(APIView):
    pagination_class = Pagination  # read by the schema generator

    class InputSerializer(serializers.Serializer[Any]):
        username = serializers.CharField(max_length=150)
        role = serializers.ChoiceField(choices=ADDABLE_ROLES, default=Role.MEMBER)

        class Meta:
            ref_name = "TeamMemberAddInput"

    @extend_schema(
        operation_id="teams_members_list",
        summary="A team's members: owner first, then admins, then members",
        description="Paginated like every list (`{count, next, previous, results}`); each "
        "item is `{user: {id, username}, role, joined_at}`.",
        responses={200: MemberOutputSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, team_id: int) -> Response:
        team = team_get_for_user(user=request_user(request), team_id=team_id)
        return paginated_response(
            request=request,
            view=self,
            queryset=team_member_list(team=team),
            serializer_class=MemberOutputSerializer,
        )

    @extend_schema(
        operation_id="teams_members_add",
        summary="Add a user to the team (owner or admin only)",
        request=InputSerializer,
        responses={201: MemberOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request, team_id: int) -> Response:
        actor = request_user(request)
        team = team_get_for_user(user=actor, team_id=team_id)
        # The role decides before the body does: a plain member learns nothing from a 400.
        if membership_role(team=team, user=actor) not in MANAGING_ROLES:
            raise PermissionDenied("Only the team's owner or an admin can add members.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = team_member_add(team=team, actor=actor, **serializer.validated_data)
        return Response(MemberOutputSerializer(membership).data, status=status.HTTP_201_CREATED)
