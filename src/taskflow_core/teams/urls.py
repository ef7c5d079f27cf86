from django.urls import path

from taskflow_core.teams.apis import TeamDetailApi, TeamListCreateApi, TeamMemberListAddApi

urlpatterns = [
    path("teams/", TeamListCreateApi.as_view(), name="teams"),
    path("teams/<int:team_id>/", TeamDetailApi.as_view(), name="team-detail"),
    path("teams/<int:team_id>/members/", TeamMemberListAddApi.as_view(), name="team-members"),
]
