"""deploy/compose.yaml: valid against the Compose spec, and shaped as docs/operations.md describes
(every service, health checks, start order, secrets kept from the realtime service, no real
secrets).

compose_spec.json is the Compose specification schema shipped with docker-compose 1.29.2
(Apache-2.0, Debian's `docker-compose` package). `make docker-test` runs the file on a real engine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from taskflow_deploy.commands import REALTIME_WITHHELD, uvicorn_args
from taskflow_deploy.gateway import Gateway, render
from taskflow_local.dockerenv import env_from_example

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SCHEMA = Path(__file__).with_name("compose_spec.json")
SERVICES = {
    "postgres",
    "redis",
    "migrate",
    "core",
    "realtime",
    "relay",
    "worker",
    "beat",
    "gateway",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_file_validates_against_the_compose_spec(compose: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    # The schema names draft 2019-09 by a non-canonical URI; name the draft here instead.
    assert schema.pop("$schema") == "http://json-schema.org/draft/2019-09/schema#"
    validator = jsonschema.Draft201909Validator
    validator.check_schema(schema)
    validator(schema, format_checker=validator.FORMAT_CHECKER).validate(compose)


def test_compose_cli_accepts_the_file_when_one_is_installed(tmp_path: Path) -> None:
    """`docker compose config -q` (or Debian's docker-compose) on a copy with a generated .env."""
    deploy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, deploy, ignore=shutil.ignore_patterns(".env", "*.pem"))
    (deploy / ".env").write_text(env_from_example((DEPLOY / ".env.example").read_text()))
    for name in ("jwt_private.pem", "jwt_public.pem"):
        (deploy / "secrets" / name).write_text("placeholder\n")
    commands = []
    if (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        commands.append(["docker", "compose"])
    if shutil.which("docker-compose"):
        commands.append(["docker-compose"])
    for command in commands:
        result = subprocess.run(
            [*command, "-f", str(deploy / "compose.yaml"), "config", "-q"],
            cwd=deploy,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    # Without any CLI the schema test above is the check; with one, both must agree.


def test_every_part_of_the_stack_is_a_service(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == SERVICES


def test_long_running_services_have_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", "core", "realtime", "worker"):
        assert services[name]["healthcheck"]["test"], name
    # relay and beat have no port to probe; the gateway's check is in its image (Dockerfile).
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert dockerfile.count("HEALTHCHECK") == 2


def test_services_start_only_after_what_they_need_is_healthy(compose: dict[str, Any]) -> None:
    services = compose["services"]

    def conditions(name: str) -> dict[str, str]:
        return {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}

    assert conditions("migrate") == {"postgres": "service_healthy", "redis": "service_healthy"}
    for name in ("core", "relay", "worker", "beat"):
        assert conditions(name) == {
            "migrate": "service_completed_successfully",
            "redis": "service_healthy",
        }
    assert conditions("realtime") == {"redis": "service_healthy"}
    assert conditions("gateway") == {"core": "service_healthy", "realtime": "service_healthy"}


def test_redis_is_bounded_in_bytes_and_never_evicts(compose: dict[str, Any]) -> None:
    """docs/events.md "Bounds": evicting the event stream or its markers would lose history."""
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--maxmemory") + 1] == "${REDIS_MAXMEMORY:-512mb}"
    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"


def test_only_the_gateway_publishes_a_port(compose: dict[str, Any]) -> None:
    published = {name for name, spec in compose["services"].items() if spec.get("ports")}
    assert published == {"gateway"}


def test_realtime_never_gets_the_signing_key_the_secret_key_or_the_database(
    compose: dict[str, Any],
) -> None:
    realtime = compose["services"]["realtime"]
    assert "env_file" not in realtime
    assert set(realtime["environment"]) == {"REDIS_URL", "JWT_PUBLIC_KEY_FILE"}
    assert not set(realtime["environment"]) & set(REALTIME_WITHHELD)
    assert realtime["secrets"] == ["jwt_public_key"]
    core = compose["services"]["core"]
    assert core["env_file"] == ".env"
    assert set(core["secrets"]) == {"jwt_private_key", "jwt_public_key"}


def test_the_committed_env_example_holds_no_real_secret() -> None:
    values = dict(
        line.split("=", 1)
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert values["SECRET_KEY"].startswith("replace-")
    assert len(values["SECRET_KEY"]) < 32  # so production settings refuse the placeholder
    assert values["POSTGRES_PASSWORD"].startswith("replace-")
    generated = dict(
        line.split("=", 1)
        for line in env_from_example((DEPLOY / ".env.example").read_text()).splitlines()
        if line and not line.startswith("#")
    )
    assert len(generated["SECRET_KEY"]) >= 50
    assert generated["SECRET_KEY"] != values["SECRET_KEY"]
    assert set(generated) == set(values)


def test_the_gateway_image_config_renders_for_the_compose_service_names(tmp_path: Path) -> None:
    """What the Dockerfile's gateway stage renders (the names resolve only inside compose, so
    nginx cannot load it here; tests/gateway runs the same template for real)."""
    conf = render(
        Gateway(
            listen="8080",
            core_servers=("core:8000",),
            realtime_servers=("realtime:8001",),
            prefix=Path("/etc/nginx/taskflow"),
            static_root=Path("/srv/static"),
            web_root=Path("/srv/web"),
        )
    )
    assert "server core:8000 " in conf
    assert "server realtime:8001 " in conf
    assert "listen 8080;" in conf
    assert "alias /srv/static/;" in conf
    assert "root /srv/web;" in conf
    assert "alias /srv/web/;" in conf
    assert "{{" not in conf
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "--web-root /srv/web" in dockerfile
    assert "COPY web /srv/web" in dockerfile


def test_realtime_runs_the_command_every_other_launcher_runs(compose: dict[str, Any]) -> None:
    """The same uvicorn options as `make run`, the tests and the benchmarks, listening on every
    interface of its container and trusting forwarded headers from the gateway."""
    command = compose["services"]["realtime"]["command"]
    assert command == ["uvicorn", *uvicorn_args(8001, host="0.0.0.0", forwarded_allow_ips="*")]


def test_services_given_the_private_key_get_the_group_that_may_read_it(
    compose: dict[str, Any],
) -> None:
    """The key is 0640 (make docker-env): its group is added to exactly the services using it."""
    for name, spec in compose["services"].items():
        secrets = [s if isinstance(s, str) else s["source"] for s in spec.get("secrets", [])]
        expected = ["${TASKFLOW_SECRETS_GID:-10001}"] if "jwt_private_key" in secrets else None
        assert spec.get("group_add") == expected, name
    assert "jwt_private_key" not in compose["services"]["realtime"]["secrets"]


def test_database_images_default_to_docker_hub_and_can_be_replaced(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert services["postgres"]["image"] == "${POSTGRES_IMAGE:-postgres:17-alpine}"
    assert services["redis"]["image"] == "${REDIS_IMAGE:-redis:7-alpine}"
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert not dockerfile.startswith("# syntax=")  # no frontend image to fetch from a registry
    for arg in ("PYTHON_IMAGE=python:", "NGINX_IMAGE=nginx:", "UV_IMAGE=ghcr.io/astral-sh/uv:"):
        assert f"ARG {arg}" in dockerfile
