"""Task endpoints: thin views over `tasks.selectors` (reads) and `tasks.services` (writes)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from taskflow_core.accounts.authentication import (
    RevocableJWTAuthentication,
    request_actor,
    request_user,
)
from taskflow_core.accounts.models import User
from taskflow_core.common.openapi import error_responses
from taskflow_core.common.pagination import Pagination, paginated_response
from taskflow_core.common.text import (
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    multiline_text,
    single_line_text,
)
from taskflow_core.notifications.serializers import ActorSerializer
from taskflow_core.tasks.clock import CreatorMayNotAct
from taskflow_core.tasks.conditional import (
    none_match,
    not_modified,
    task_list_clocks,
    task_list_etag,
)
from taskflow_core.tasks.mentions import has_mentions
from taskflow_core.tasks.models import Priority, Status, Task, TaskActivity
from taskflow_core.tasks.openapi import (
    IF_MATCH,
    IF_NONE_MATCH,
    LIST_ETAG,
    NOT_MODIFIED,
    TASK_LIST_PARAMETERS,
    etag_header,
)
from taskflow_core.tasks.preconditions import expected_version, with_etag
from taskflow_core.tasks.selectors import (
    task_activity_list,
    task_get,
    task_list_filters,
    task_version_get,
)
from taskflow_core.tasks.serializers import (
    TASK_COLUMNS,
    TaskOutputSerializer,
    task_payload,
    task_row_payload,
)
from taskflow_core.tasks.services import (
    ASSIGNEE_NOT_A_MEMBER,
    TEAM_NOT_YOURS,
    task_create,
    task_delete,
    task_team_member_remove,
    task_unwatch,
    task_update,
    task_watch,
)
from taskflow_core.teams.models import ADDABLE_ROLES, MANAGING_ROLES, Team
from taskflow_core.teams.selectors import team_get_for_user, team_member_ids
from taskflow_core.teams.serializers import MemberOutputSerializer
from taskflow_core.teams.services import membership_role, team_member_role_change


@extend_schema_field(OpenApiTypes.INT)
class MemberTeamField(serializers.PrimaryKeyRelatedField[Team]):
    """A team id among the caller's teams; any other id reads as unknown (no existence leak).

    Only the id is checked here. Whether the team is the caller's is answered by the statement
    that writes the task, which reads the team's members anyway (they hear of it): one query
    fewer per create (`task_created_insert`, bench/NOTES.md "P2"). A body with other errors is
    checked here too (`TeamCheckedLate`), so a 400 names the same fields as ever."""

    default_error_messages = {"does_not_exist": TEAM_NOT_YOURS}

    def get_queryset(self) -> Any:
        return Team.objects.all()  # not queried: see `to_internal_value`

    def to_internal_value(self, data: Any) -> Team:
        team_id = _primary_key(self, data)
        if team_id is None:
            self.fail("does_not_exist", pk_value=data)
        return Team(pk=team_id)

    def is_callers(self, team: Team) -> bool:
        return self.context["request"].user.pk in team_member_ids(team_id=team.pk)


class StrictInputSerializer(serializers.Serializer[Any]):
    """Names every field the body sends that cannot be written, instead of dropping it."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        """Shallow copies of the declared fields. DRF deep-copies them, which re-runs every
        field's `__init__` (choices, validators) for each request: ~8 % of a create's CPU
        (bench/NOTES.md, "P2"). A copy is bound to this serializer (`bind` sets attributes on
        the copy only); what the copies share (validators, choices, querysets) is only read."""
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            readable = set(TaskOutputSerializer.Meta.fields)
            raise serializers.ValidationError(
                {
                    name: ["This field is read-only." if name in readable else "Unknown field."]
                    for name in unknown
                }
            )
        return attrs


class TeamCheckedLate(serializers.Serializer[Any]):
    """For a body whose `team` is a `MemberTeamField`: a valid body's team is checked by the
    service, in the statement that writes the task; an invalid body's is checked here, so that
    a 400 names `team` whenever it did when the field checked it (next to the other fields'
    errors, or alone where those fields are valid and only unknown fields are wrong)."""

    def _not_callers(self, data: Any) -> bool:
        if not isinstance(data, Mapping) or "team" not in data:
            return False
        field = self.fields["team"]
        try:
            team = field.to_internal_value(data["team"])
        except serializers.ValidationError:
            return False  # the field's own error is reported already
        return not field.is_callers(team)  # type: ignore[attr-defined]

    def _team_error(self) -> dict[str, Any]:
        message = str(self.fields["team"].error_messages["does_not_exist"])
        return {"team": [serializers.ErrorDetail(message, code="does_not_exist")]}

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if (
                isinstance(exc.detail, dict)
                and "team" not in exc.detail
                and self._not_callers(data)
            ):
                exc.detail = {**self._team_error(), **exc.detail}
            raise

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            validated: dict[str, Any] = super().validate(attrs)
        except serializers.ValidationError:
            if self._not_callers(self.initial_data):
                raise serializers.ValidationError(self._team_error()) from None
            raise
        return validated


ID_LIMIT = 2**63  # ids are PostgreSQL bigints: anything beyond is no row at all


def _primary_key(field: serializers.PrimaryKeyRelatedField[Any], data: Any) -> int | None:
    """`data` as the primary key lookup would convert it (`incorrect_type` if it cannot be),
    or None when no row can have it; for the fields that validate an id without reading it."""
    try:
        if isinstance(data, bool):
            raise TypeError
        value = int(data)
    except (TypeError, ValueError):
        field.fail("incorrect_type", data_type=type(data).__name__)
    return value if 0 < value < ID_LIMIT else None


@extend_schema_field(OpenApiTypes.INT)
class AssigneeField(serializers.PrimaryKeyRelatedField[User]):
    """A user id, not read here: the service reads the user in the statement that holds their
    membership (`_assignee_hold`), which answers "do they exist" and "are they a member" at
    once (bench/NOTES.md, "P2"). A user that does not exist is outside the team too: the
    service's message for both."""

    default_error_messages = {"does_not_exist": ASSIGNEE_NOT_A_MEMBER}

    def get_queryset(self) -> Any:
        return User.objects.all()  # not queried: see `to_internal_value`

    def to_internal_value(self, data: Any) -> User:
        user_id = _primary_key(self, data)
        if user_id is None:
            self.fail("does_not_exist", pk_value=data)
        return User(pk=user_id)


def _assignee_field(**kwargs: Any) -> AssigneeField:
    return AssigneeField(allow_null=True, **kwargs)


def _title_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        max_length=TITLE_MAX_LENGTH, validators=[single_line_text], **kwargs
    )


def _description_field(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(
        allow_blank=True,
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        validators=[multiline_text],
        **kwargs,
    )


def _visible_task(request: Request, task_id: int) -> Task:
    task = task_get(user=request_user(request), task_id=task_id)
    if task is None:
        raise Http404
    return task


def _task_response(task: Task, code: int = status.HTTP_200_OK) -> Response:
    return with_etag(Response(task_payload(task), status=code), task)


class TaskListCreateApi(APIView):
    pagination_class = Pagination

    def get_authenticators(self) -> list[BaseAuthentication]:
        """A create's statement checks its creator (active, token not revoked) in the snapshot
        it writes in, so the create's authentication verifies the token only: one round trip
        fewer (docs/architecture.md, "The one exception")."""
        request = getattr(self, "request", None)
        if request is not None and request.method == "POST":
            return [RevocableJWTAuthentication(defer_user_check=True)]
        return super().get_authenticators()

    @extend_schema_serializer(component_name="TaskCreate")
    class InputSerializer(TeamCheckedLate, StrictInputSerializer):
        """A new task; `team` must be one of yours, `assignee` a member of it."""

        team = MemberTeamField()
        title = _title_field()
        description = _description_field(default="")
        status = serializers.ChoiceField(choices=Status.choices, default=Status.TODO)
        priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.MEDIUM)
        due_at = serializers.DateTimeField(allow_null=True, required=False, default=None)
        assignee = _assignee_field(required=False, default=None)

    @extend_schema(
        operation_id="tasks_list",
        summary="List the tasks of your teams",
        description="Newest first unless `ordering` says otherwise. An invalid filter value "
        "gives 400 naming the parameter; a page past the end gives 404.",
        parameters=[*TASK_LIST_PARAMETERS, IF_NONE_MATCH, LIST_ETAG],
        responses={
            200: TaskOutputSerializer(many=True),
            304: NOT_MODIFIED,
            **error_responses(400, 401, 404),
        },
    )
    def get(self, request: Request) -> Response:
        user = request_user(request)
        if_none_match = request.headers.get("If-None-Match")
        params = request.query_params
        clocks = task_list_clocks(user=user, params=params)
        etag = None if clocks is None else task_list_etag(user=user, params=params, clocks=clocks)
        if etag is not None and none_match(if_none_match, etag, star=False):
            return not_modified(etag)  # a tag we issued for these (so valid) parameters
        # The clocks name the teams the list may show: no membership lookup in its queries.
        team_ids = None if clocks is None else [team for team, _ in clocks]
        filters = task_list_filters(user=user, filters=params, team_ids=team_ids)  # 400 if invalid
        if etag is not None and none_match(if_none_match, etag):
            return not_modified(etag)
        paginator = Pagination()
        rows = filters.qs.values(*TASK_COLUMNS)
        page: list[dict[str, Any]] = paginator.paginate_queryset(rows, request, view=self) or []
        zone = timezone.get_current_timezone()
        response = paginator.get_paginated_response([task_row_payload(row, zone) for row in page])
        if etag is not None:
            response["ETag"] = etag
        return response

    @extend_schema(
        operation_id="tasks_create",
        summary="Create a task in one of your teams",
        description="You become its `created_by`. A `team` you are not a member of is "
        "reported exactly like one that does not exist (400 naming `team`); an `assignee` "
        "outside the team gives 400 naming `assignee`. Unknown or read-only fields give 400.",
        request=InputSerializer,
        responses={201: TaskOutputSerializer, **error_responses(400, 401)},
        parameters=[etag_header(201)],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            request_user(request)  # who may not act hears 401, not what was wrong with the body
            raise serializers.ValidationError(serializer.errors)
        data = serializer.validated_data
        actor = request_actor(request)
        if data["assignee"] is not None or has_mentions(data["description"]):
            actor = request_user(request)  # the service holds and notifies: it needs the row
        try:
            task = task_create(actor=actor, **data)
        except CreatorMayNotAct:
            # 401 saying why; should they have become able to act since, create as them.
            task = task_create(actor=request_user(request), **data)
        response = _task_response(task, status.HTTP_201_CREATED)
        response["Location"] = f"{request.path}{task.pk}/"
        return response


class TaskDetailApi(APIView):
    @extend_schema_serializer(component_name="TaskUpdate")
    class InputSerializer(StrictInputSerializer):
        """The fields to change; any field left out keeps its value."""

        title = _title_field(required=False)
        description = _description_field()
        status = serializers.ChoiceField(choices=Status.choices, required=False)
        priority = serializers.ChoiceField(choices=Priority.choices, required=False)
        due_at = serializers.DateTimeField(allow_null=True, required=False)
        assignee = _assignee_field(required=False)

    @extend_schema(
        operation_id="tasks_retrieve",
        summary="Read a task",
        parameters=[IF_NONE_MATCH, etag_header(200, conditional=True)],
        responses={200: TaskOutputSerializer, 304: NOT_MODIFIED, **error_responses(401, 404)},
    )
    def get(self, request: Request, task_id: int) -> Response:
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match:
            version = task_version_get(user=request_user(request), task_id=task_id)
            if version is None:
                raise Http404
            if none_match(if_none_match, f'"{version}"'):
                return not_modified(f'"{version}"')
        return _task_response(_visible_task(request, task_id))

    @extend_schema(
        operation_id="tasks_partial_update",
        summary="Change some fields of a task",
        description="Only the fields sent change; `version` goes up by one when anything "
        "actually changed. Fields that cannot be written (`team`, `version`, ...) or are "
        "unknown give 400 naming them.",
        request=InputSerializer,
        parameters=[IF_MATCH, etag_header(200)],
        responses={200: TaskOutputSerializer, **error_responses(400, 401, 404, 412)},
    )
    def patch(self, request: Request, task_id: int) -> Response:
        task = _visible_task(request, task_id)
        version = expected_version(request.headers.get("If-Match"))
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        task = task_update(
            task_id=task.pk,
            actor=request_user(request),
            data=serializer.validated_data,
            expected_version=version,
        )
        return _task_response(task)

    @extend_schema(
        operation_id="tasks_destroy",
        summary="Delete a task (its creator or a team owner/admin)",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request: Request, task_id: int) -> Response:
        task_delete(task=_visible_task(request, task_id), actor=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TaskActivityListApi(APIView):
    pagination_class = Pagination

    @extend_schema_serializer(component_name="TaskActivity")
    class OutputSerializer(serializers.ModelSerializer[TaskActivity]):
        actor = ActorSerializer(allow_null=True)
        changes = serializers.DictField(
            child=serializers.ListField(min_length=2, max_length=2),
            help_text="`{field: [old, new]}`; empty for `created`.",
        )

        class Meta:
            model = TaskActivity
            fields = ["id", "actor", "verb", "changes", "created_at"]
            read_only_fields = fields

    @extend_schema(
        operation_id="tasks_activity_list",
        summary="Who changed what on a task, oldest first",
        responses={200: OutputSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, task_id: int) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=task_activity_list(task=_visible_task(request, task_id)),
            serializer_class=self.OutputSerializer,
        )


class TaskWatchApi(APIView):
    @extend_schema(
        operation_id="tasks_watch",
        summary="Watch a task: hear about its comments and status changes",
        description="Idempotent. Creating, being assigned, being mentioned and commenting "
        "make you a watcher too.",
        request=None,
        responses={204: OpenApiResponse(description="Watching."), **error_responses(401, 404)},
    )
    def post(self, request: Request, task_id: int) -> Response:
        task_watch(task=_visible_task(request, task_id), user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="tasks_unwatch",
        summary="Stop watching a task",
        description="Idempotent. You watch it again when you are next assigned, mentioned or "
        "comment on it.",
        request=None,
        responses={204: OpenApiResponse(description="Not watching."), **error_responses(401, 404)},
    )
    def delete(self, request: Request, task_id: int) -> Response:
        task_unwatch(task=_visible_task(request, task_id), user=request_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TeamMemberDetailApi(APIView):
    """Lives with tasks because removing a member also unassigns their tasks in that team; a
    URL has one view, so the role change (a teams service) is served here too."""

    class RoleInputSerializer(serializers.Serializer[Any]):
        role = serializers.ChoiceField(choices=ADDABLE_ROLES)

        class Meta:
            ref_name = "TeamMemberRoleInput"

    @extend_schema(
        operation_id="teams_members_role_change",
        summary="Change a member's role (owner or admin only)",
        description="`admin` or `member`. The owner's role cannot be changed (403). Every "
        "member's socket gets `team.member_role_changed`.",
        request=RoleInputSerializer,
        responses={200: MemberOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, team_id: int, user_id: int) -> Response:
        actor = request_user(request)
        team = team_get_for_user(user=actor, team_id=team_id)
        # As for adding: the role decides before the body does.
        if membership_role(team=team, user=actor) not in MANAGING_ROLES:
            raise PermissionDenied("Only the team's owner or an admin can change roles.")
        serializer = self.RoleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = team_member_role_change(
            team=team, actor=actor, user_id=user_id, role=serializer.validated_data["role"]
        )
        return Response(MemberOutputSerializer(membership).data)

    @extend_schema(
        operation_id="teams_members_remove",
        summary="Remove a member (owner or admin), or leave the team yourself",
        description="The owner can be removed by nobody and cannot leave (403). Tasks assigned "
        "to the removed member in this team become unassigned.",
        request=None,
        responses={
            204: OpenApiResponse(description="Removed."),
            **error_responses(401, 403, 404),
        },
    )
    def delete(self, request: Request, team_id: int, user_id: int) -> Response:
        actor = request_user(request)
        team = team_get_for_user(user=actor, team_id=team_id)
        task_team_member_remove(team=team, actor=actor, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
