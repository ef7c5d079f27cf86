from django.urls import path

from taskflow_core.teams.apis import (
    TeamDetailApi,
    TeamListCreateApi,
    TeamMemberDetailApi,
    TeamMemberListAddApi,
)

urlpatterns = [
    path("teams/", TeamListCreateApi.as_view(), name="teams"),
    path("teams/<int:team_id>/", TeamDetailApi.as_view(), name="team-detail"),
    path("teams/<int:team_id>/members/", TeamMemberListAddApi.as_view(), name="team-members"),
    path(
        "teams/<int:team_id>/members/<int:user_id>/",
        TeamMemberDetailApi.as_view(),
        name="team-member-detail",
    ),
]
