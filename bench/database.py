"""The benchmark's own database and its seed data (users, teams, tokens).

The bench never writes to the configured database: it works in a sibling database named after
it with a `_bench` suffix (a name that already ends in `_bench` is used as is), created fresh
for every run and dropped at the end.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

BENCH_SETTINGS = "taskflow_core.config.settings.production"


def bench_database_url(configured: str) -> str:
    parts = urlsplit(configured)
    name = unquote(parts.path.lstrip("/")) or "postgres"
    bench_name = name if name.endswith("_bench") else f"{name}_bench"
    return urlunsplit(parts._replace(path=f"/{bench_name}"))


def _database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def _maintenance_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def recreate_database(url: str) -> None:
    name = _database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    name = _database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def service_environment(database_url: str) -> dict[str, str]:
    """What every process of the bench runs with: the bench database, production settings."""
    env = dict(os.environ)
    env["DATABASE_URL"] = database_url
    env["DJANGO_SETTINGS_MODULE"] = BENCH_SETTINGS
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    env["LOG_LEVEL"] = "WARNING"
    # A token must outlive the 10-minute socket soak; the bench mints its own anyway.
    env.setdefault("JWT_ACCESS_MINUTES", "120")
    repo_src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    repo = os.path.dirname(repo_src)
    # BENCH_PYTHONPATH goes first: a patched copy of a package can be measured side by side
    # with the checked-in one before the change is made (profile, patch, compare).
    extra = [path for path in os.environ.get("BENCH_PYTHONPATH", "").split(os.pathsep) if path]
    env["PYTHONPATH"] = os.pathsep.join([*extra, repo_src, repo])
    return env


def setup_django(env: dict[str, str]) -> None:
    """Configure Django in this process against the bench database and migrate it."""
    os.environ.update(
        {
            key: env[key]
            for key in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "ALLOWED_HOSTS", "LOG_LEVEL")
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--no-input", verbosity=0)


def close_django_connections() -> None:
    from django.db import connections

    connections.close_all()


def make_users(prefix: str, count: int) -> list[Any]:
    """`count` users with unusable passwords (the bench mints their tokens directly)."""
    from taskflow_core.accounts.models import User

    users = [
        User(
            username=f"{prefix}{index}",
            email=f"{prefix}{index}@bench.example",
            password="!",  # unusable: nobody logs in with a password here
            email_notifications=True,
        )
        for index in range(count)
    ]
    return list(User.objects.bulk_create(users, batch_size=2000))


def make_team(name: str, owner: Any, members: list[Any]) -> Any:
    """A team owned by `owner` with `members` (bulk-inserted memberships)."""
    from taskflow_core.teams.models import Membership, Role, Team

    team = Team.objects.create(name=name)
    rows = [Membership(team=team, user=owner, role=Role.OWNER)]
    rows += [
        Membership(team=team, user=user, role=Role.MEMBER) for user in members if user != owner
    ]
    Membership.objects.bulk_create(rows, batch_size=2000)
    return team


def access_token(user: Any, lifetime: timedelta = timedelta(hours=2)) -> str:
    """A signed RS256 access token, exactly as the API issues them, valid for `lifetime`."""
    from rest_framework_simplejwt.tokens import AccessToken

    token = AccessToken.for_user(user)
    token.set_exp(lifetime=lifetime)
    return str(token)
