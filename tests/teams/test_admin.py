"""The Django admin shows teams with their memberships inline, and memberships on their own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from taskflow_core.accounts.models import User
from taskflow_core.teams.models import Membership, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(make_user: Callable[..., User]) -> Client:
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_team_and_membership_pages_open(staff: Client, team: Team) -> None:
    membership = Membership.objects.filter(team=team).first()
    assert membership is not None
    for url in (
        "/admin/teams/team/",
        "/admin/teams/team/?q=Plat",
        "/admin/teams/team/add/",
        f"/admin/teams/team/{team.pk}/change/",
        "/admin/teams/membership/",
        "/admin/teams/membership/?role__exact=owner",
        "/admin/teams/membership/?q=alice",
        "/admin/teams/membership/add/",
        f"/admin/teams/membership/{membership.pk}/change/",
    ):
        assert staff.get(url).status_code == 200, url


def test_the_team_page_lists_its_members_inline(staff: Client, team: Team) -> None:
    page = staff.get(f"/admin/teams/team/{team.pk}/change/")
    formset = page.context["inline_admin_formsets"][0].formset
    assert sorted((form.instance.user.username, form.instance.role) for form in formset) == [
        ("alice", "owner"),
        ("bob", "member"),
    ]
