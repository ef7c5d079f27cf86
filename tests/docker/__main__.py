"""`make docker-test`: deploy/compose.yaml's stack on a real Docker engine, end to end.

1. An engine: the machine's own, or a private dockerd under .taskflow/docker/ (engine.py).
2. Local base images, built once and kept in that engine's store (base_images.py).
3. The project's images from deploy/Dockerfile, with those base images as build arguments.
4. A fresh deploy directory from `make docker-env`'s own code, and the compose file
   rewritten into one private network namespace (compose.py); `up --no-build`.
5. Every container healthy (the one-shot migrate exited 0), the private key mode 0640 and
   unreadable to other users inside the core container.
6. The smoke test through the gateway from inside the namespace (smoke.py, via nsenter).
7. `down -v`; no container or volume of the project left; a private engine is stopped by PID.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from taskflow_local import dockerenv
from tests.docker.base_images import ensure_base_images
from tests.docker.compose import HOLDER, write_test_compose
from tests.docker.engine import Engine, EngineError, docker_engine

REPO = Path(__file__).resolve().parents[2]
STATE = REPO / ".taskflow" / "docker"
WORK = REPO / ".taskflow" / "docker-test"
UV_BINARY = REPO / ".taskflow" / "tools" / "bin" / "uv"
PROJECT = "taskflowdockertest"
IMAGES = {"app": "taskflow-app:latest", "gateway": "taskflow-gateway:latest"}
HEALTHY_TIMEOUT = 420.0
SUPERUSER = {
    "DJANGO_SUPERUSER_USERNAME": "smoke-admin",
    "DJANGO_SUPERUSER_EMAIL": "smoke-admin@example.com",
    "DJANGO_SUPERUSER_PASSWORD": "docker-test-" + os.urandom(8).hex(),
}
timings: dict[str, float] = {}


@contextmanager
def step(name: str) -> Iterator[None]:
    print(f"== {name}", flush=True)
    started = time.monotonic()
    try:
        yield
    finally:
        timings[name] = time.monotonic() - started


def build_project_images(engine: Engine, bases: dict[str, str]) -> None:
    args = {"PYTHON_IMAGE": bases["python"], "NGINX_IMAGE": bases["nginx"], "UV_IMAGE": bases["uv"]}
    build_args = [
        item for name, value in args.items() for item in ("--build-arg", f"{name}={value}")
    ]
    for target, image in IMAGES.items():
        engine.docker(
            "build",
            "--network",
            "host",
            "--progress",
            "plain",
            "-f",
            "deploy/Dockerfile",
            "--target",
            target,
            "-t",
            image,
            *build_args,
            str(REPO),
            capture=True,
        )
        print(f"  {image} built")


def prepare_deploy_dir() -> Path:
    """What `make docker-env` writes, in a directory of its own."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    shutil.copy(REPO / "deploy" / ".env.example", WORK / ".env.example")
    dockerenv.main(deploy=WORK)
    private = WORK / "secrets" / "jwt_private.pem"
    mode = private.stat().st_mode & 0o777
    if mode & 0o007:
        raise EngineError(f"make docker-env left the private key world-accessible ({mode:o})")
    return write_test_compose(
        REPO / "deploy" / "compose.yaml", WORK / "compose.yaml", IMAGES["app"]
    )


def compose_command(engine: Engine) -> list[str]:
    probe = engine.docker("compose", "version", capture=True, check=False)
    if probe.returncode == 0:
        return [engine.client, "compose"]
    found = shutil.which("docker-compose")
    if found is None:
        raise EngineError("no compose: apt-get install docker-compose (.ci/run does)")
    return [found]


def containers(engine: Engine) -> list[dict[str, Any]]:
    ids = engine.docker(
        "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}", capture=True
    ).stdout.split()
    if not ids:
        return []
    inspected = engine.docker("inspect", *ids, capture=True).stdout
    return list(json.loads(inspected))


def service(container: dict[str, Any]) -> str:
    return str(container["Config"]["Labels"]["com.docker.compose.service"])


def readiness(container: dict[str, Any]) -> tuple[bool, str]:
    """(ready, problem): migrate must have exited 0, the rest be running (and healthy if they
    have a check), none restarted."""
    state = container["State"]
    name = service(container)
    if container.get("RestartCount"):
        return False, f"{name} restarted {container['RestartCount']} times"
    if name == "migrate":
        if state["Status"] == "exited":
            code = state["ExitCode"]
            return code == 0, f"migrate exited {code}" if code else ""
        return False, ""
    if state["Status"] != "running":
        return False, f"{name} is {state['Status']}"
    health = state.get("Health", {}).get("Status")
    if health == "unhealthy":
        return False, f"{name} is unhealthy"
    return health in (None, "healthy"), ""


def wait_until_healthy(engine: Engine, expected: set[str]) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + HEALTHY_TIMEOUT
    while True:
        found = {service(container): container for container in containers(engine)}
        checks = {name: readiness(container) for name, container in found.items()}
        problems = [problem for _, problem in checks.values() if problem]
        if problems:
            raise EngineError("; ".join(problems))
        if set(found) == expected and all(ready for ready, _ in checks.values()):
            return found
        if time.monotonic() > deadline:
            waiting = sorted(expected - {name for name, (ready, _) in checks.items() if ready})
            raise EngineError(f"not healthy after {HEALTHY_TIMEOUT:.0f} s: {waiting}")
        time.sleep(2)


def check_private_key(engine: Engine, core: str) -> None:
    """The core runs (it signs tokens with the key), the key is 0640 with the containers' group
    inside, and a user outside that group cannot read the file compose mounts."""
    key = "/run/secrets/jwt_private_key"
    stat = engine.docker("exec", core, "stat", "-c", "%a %u:%g", key, capture=True).stdout.strip()
    if not stat.startswith("640 ") or not stat.endswith(":10001"):
        raise EngineError(f"{key} in core is {stat}, expected mode 640 and group 10001")
    host_file = WORK / "secrets" / "jwt_private.pem"
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", str(host_file)]
    other = subprocess.run(nobody, capture_output=True, text=True, check=False)
    if other.returncode == 0 or "Permission denied" not in other.stderr:
        raise EngineError(f"a user outside group 10001 could read {host_file}")
    print(f"  {key} in core: mode and owner {stat}; as another user: Permission denied")


def run_smoke(engine: Engine, holder: dict[str, Any], core: str) -> None:
    env = {**os.environ, **SUPERUSER, "DOCKER_HOST": engine.host}
    subprocess.run(
        [
            engine.client,
            "exec",
            *[arg for name in SUPERUSER for arg in ("-e", name)],
            core,
            "python",
            "manage.py",
            "createsuperuser",
            "--no-input",
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    pid = holder["State"]["Pid"]
    smoke = [sys.executable, "-m", "tests.docker.smoke", "http://127.0.0.1:8080"]
    subprocess.run(
        ["nsenter", f"--net=/proc/{pid}/ns/net", "--", *smoke], cwd=REPO, env=env, check=True
    )


def stack(engine: Engine, bases: dict[str, str]) -> None:
    compose_file = prepare_deploy_dir()
    compose = [*compose_command(engine), "-p", PROJECT, "-f", str(compose_file)]
    env = engine.env(POSTGRES_IMAGE=bases["postgres"], REDIS_IMAGE=bases["redis"])
    expected = set(yaml.safe_load(compose_file.read_text())["services"])
    try:
        with step("up and healthy"):
            # Whatever a killed earlier run left (the engine restarts its containers) goes first.
            subprocess.run([*compose, "down", "-v", "--remove-orphans"], env=env, check=True)
            subprocess.run([*compose, "up", "-d", "--no-build"], env=env, check=True)
            found = wait_until_healthy(engine, expected)
            print(f"  healthy: {', '.join(sorted(found))}")
        with step("checks through the gateway"):
            core = found["core"]["Id"]
            check_private_key(engine, core)
            run_smoke(engine, found[HOLDER], core)
    except BaseException:
        subprocess.run([*compose, "logs", "--no-color", "--tail", "60"], env=env, check=False)
        raise
    finally:
        with step("down"):
            subprocess.run([*compose, "down", "-v", "--remove-orphans"], env=env, check=False)
            left = [service(container) for container in containers(engine)]
            volumes = engine.docker(
                "volume",
                "ls",
                "-q",
                "--filter",
                f"label=com.docker.compose.project={PROJECT}",
                capture=True,
            ).stdout.split()
            networks = engine.docker("network", "ls", "--format", "{{.Name}}", capture=True)
            print(f"  networks on the engine: {networks.stdout.split()}")
            if left or volumes:
                raise EngineError(f"left after down: containers {left}, volumes {volumes}")


def main() -> int:
    started = time.monotonic()
    try:
        with docker_engine(STATE) as engine:
            with step("base images"):
                bases = ensure_base_images(engine, UV_BINARY)
            with step("project images"):
                build_project_images(engine, bases)
            stack(engine, bases)
    except (EngineError, subprocess.CalledProcessError) as error:
        print(f"docker-test FAILED: {error}", file=sys.stderr)
        return 1
    summary = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings.items())
    print(f"docker-test passed in {time.monotonic() - started:.0f} s ({summary}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
