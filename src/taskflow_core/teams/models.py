from django.conf import settings
from django.db import models

from taskflow_core.common.text import TEAM_NAME_MAX_LENGTH, single_line_text


class Role(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


MANAGING_ROLES = (Role.OWNER, Role.ADMIN)
# What adding a member may grant: a team has exactly one owner, its creator.
ADDABLE_ROLES = (Role.ADMIN, Role.MEMBER)


class Team(models.Model):
    name = models.CharField(max_length=TEAM_NAME_MAX_LENGTH, validators=[single_line_text])
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="unique_team_member")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team_id} as {self.role}"
