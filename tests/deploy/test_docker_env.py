"""`make docker-env`: the JWT private key it writes is readable by its owner and by the app
containers' group only (compose mounts file secrets with their host owner and mode)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from taskflow_local import dockerenv

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    shutil.copy(DEPLOY / ".env.example", tmp_path / ".env.example")
    return tmp_path


def env_values(deploy: Path) -> dict[str, str]:
    lines = (deploy / ".env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_private_key_is_not_world_readable_and_its_group_is_recorded(deploy: Path) -> None:
    assert dockerenv.main(deploy=deploy) == 0
    private = deploy / "secrets" / "jwt_private.pem"
    status = private.stat()
    assert status.st_mode & 0o777 == 0o640
    expected_gid = dockerenv.CONTAINER_GID if os.geteuid() == 0 else os.getegid()
    assert status.st_gid == expected_gid
    assert env_values(deploy)["TASKFLOW_SECRETS_GID"] == str(expected_gid)
    assert (deploy / "secrets" / "jwt_public.pem").stat().st_mode & 0o004  # realtime reads it


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")
def test_a_user_outside_the_group_cannot_read_the_private_key() -> None:
    # Directories every user may traverse, so that only the key's own mode decides.
    with tempfile.TemporaryDirectory() as directory:
        deploy = Path(directory)
        deploy.chmod(0o755)
        shutil.copy(DEPLOY / ".env.example", deploy / ".env.example")
        dockerenv.main(deploy=deploy)
        (deploy / "secrets").chmod(0o755)
        assert_only_the_group_reads(deploy / "secrets" / "jwt_private.pem")


def assert_only_the_group_reads(private: Path) -> None:
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", str(private)]
    result = subprocess.run(nobody, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "Permission denied" in result.stderr
    in_group = ["setpriv", "--reuid=65534", f"--regid={dockerenv.CONTAINER_GID}", "--clear-groups"]
    reader = subprocess.run([*in_group, "cat", str(private)], capture_output=True, check=False)
    assert reader.returncode == 0  # what the containers' user (group 10001) does


def test_an_existing_deployment_is_fixed_without_touching_its_secrets(deploy: Path) -> None:
    """A deploy/.env and keys from before: the key loses its world bit, .env gains the group."""
    dockerenv.main(deploy=deploy)
    env_path = deploy / ".env"
    old_env = "\n".join(
        line for line in env_path.read_text().splitlines() if "TASKFLOW_SECRETS_GID" not in line
    )
    env_path.write_text(old_env + "\n")
    private = deploy / "secrets" / "jwt_private.pem"
    private.chmod(0o644)
    key_before = private.read_bytes()
    secret_before = env_values(deploy)["SECRET_KEY"]

    dockerenv.main(deploy=deploy)
    assert private.stat().st_mode & 0o777 == 0o640
    assert private.read_bytes() == key_before
    values = env_values(deploy)
    assert values["SECRET_KEY"] == secret_before
    assert values["TASKFLOW_SECRETS_GID"] == str(private.stat().st_gid)


def test_with_value_replaces_or_appends_one_line() -> None:
    assert dockerenv.with_value("A=1\nB=2\n", "B", "3") == "A=1\nB=3\n"
    assert dockerenv.with_value("A=1", "B", "3") == "A=1\nB=3\n"
    assert dockerenv.with_value("AB=1\n", "B", "3") == "AB=1\nB=3\n"
