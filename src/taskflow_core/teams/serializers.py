"""A team member's public representation, shared by the REST API and the `team.member_*`
events."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from taskflow_core.teams.models import Membership, Role


class MemberUserSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    username = serializers.CharField()

    class Meta:
        ref_name = "MemberUser"


class MemberOutputSerializer(serializers.Serializer[Membership]):
    user = MemberUserSerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    joined_at = serializers.DateTimeField(source="created_at")

    class Meta:
        ref_name = "TeamMember"


def member_payload(membership: Membership) -> dict[str, Any]:
    return dict(MemberOutputSerializer(membership).data)
