"""Local stand-ins for the Docker Hub base images, since no image registry is reachable here.

Debian bookworm (`debootstrap --variant=minbase` from the mirror apt already uses) is imported
as `taskflow-local/debian:bookworm` with the host's CA bundle (package registries' HTTPS goes
through a proxy the host trusts) and a policy that no package starts a service while it
installs. The Dockerfiles in tests/docker/images/ add python, postgres, redis and nginx from
Debian packages; uv is the binary the Makefile installed. Each image carries a label with a
hash of its recipe: an image whose label matches is kept (the engine's store is the cache).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.docker.engine import Engine, EngineError

IMAGES = Path(__file__).with_name("images")
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
SUITE = "bookworm"
LABEL = "org.taskflow.recipe"
DEBIAN = "taskflow-local/debian:bookworm"
# No service may start during a package install: builds run on the host's network.
POLICY_RC_D = "#!/bin/sh\nexit 101\n"


@dataclass(frozen=True)
class BaseImage:
    tag: str
    dockerfile: str
    files: tuple[str, ...] = ()


BASES = {
    "python": BaseImage("taskflow-local/python:3.11", "python.Dockerfile"),
    "postgres": BaseImage(
        "taskflow-local/postgres:15", "postgres.Dockerfile", ("postgres-entrypoint.sh",)
    ),
    "redis": BaseImage("taskflow-local/redis:7", "redis.Dockerfile"),
    "nginx": BaseImage("taskflow-local/nginx:1.22", "nginx.Dockerfile"),
}
UV_TAG = "taskflow-local/uv:0.13.9"


def debian_mirror() -> str:
    """The first Debian archive apt is configured with (deb822 or one-line sources)."""
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        for stanza in path.read_text().split("\n\n"):
            uris = re.search(r"^URIs:\s*(\S+)", stanza, re.MULTILINE)
            suites = re.search(r"^Suites:(.*)$", stanza, re.MULTILINE)
            if uris and suites and SUITE in suites.group(1).split():
                return uris.group(1)
    for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list")]:
        if path.exists():
            for line in path.read_text().splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb" and SUITE in parts[2:]:
                    return next(part for part in parts[1:] if "://" in part)
    return "http://deb.debian.org/debian"


def _digest(*parts: bytes) -> str:
    hasher = hashlib.sha256()
    for part in parts:
        hasher.update(hashlib.sha256(part).digest())
    return hasher.hexdigest()[:16]


def _label(engine: Engine, tag: str) -> str | None:
    result = engine.docker(
        "image",
        "inspect",
        "--format",
        f'{{{{index .Config.Labels "{LABEL}"}}}}',
        tag,
        capture=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _debian(engine: Engine, mirror: str) -> str:
    recipe = _digest(mirror.encode(), SUITE.encode(), POLICY_RC_D.encode(), CA_BUNDLE.read_bytes())
    if _label(engine, DEBIAN) == recipe:
        return recipe
    if shutil.which("debootstrap") is None:
        raise EngineError(
            "debootstrap is not installed: apt-get install debootstrap (.ci/run does)"
        )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="taskflow-debootstrap-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        subprocess.run(
            ["debootstrap", "--variant=minbase", SUITE, str(rootfs), mirror],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
        (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True)
        policy = rootfs / "usr/sbin/policy-rc.d"
        policy.write_text(POLICY_RC_D)
        policy.chmod(0o755)
        certs = rootfs / "etc/ssl/certs"
        certs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CA_BUNDLE, certs / "ca-certificates.crt")
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        changes = [
            f"LABEL {LABEL}={recipe}",
            "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            'CMD ["bash"]',
        ]
        args = [arg for change in changes for arg in ("--change", change)]
        imported = subprocess.run(
            [engine.client, "import", *args, "-", DEBIAN],
            stdin=tar.stdout,
            env=engine.env(),
            check=False,
            stdout=subprocess.DEVNULL,
        )
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise EngineError("importing the Debian root file system failed")
    print(f"  {DEBIAN}: debootstrap + import in {time.monotonic() - started:.0f} s")
    return recipe


def _build(engine: Engine, base: BaseImage, debian_recipe: str) -> None:
    texts = [(IMAGES / name).read_bytes() for name in (base.dockerfile, *base.files)]
    recipe = _digest(debian_recipe.encode(), *texts)
    if _label(engine, base.tag) == recipe:
        return
    started = time.monotonic()
    engine.docker(
        "build",
        "--quiet",
        "--network",
        "host",
        "--label",
        f"{LABEL}={recipe}",
        "--build-arg",
        f"DEBIAN_IMAGE={DEBIAN}",
        "-f",
        str(IMAGES / base.dockerfile),
        "-t",
        base.tag,
        str(IMAGES),
        capture=True,
    )
    print(f"  {base.tag}: built in {time.monotonic() - started:.0f} s")


def _uv(engine: Engine, uv_binary: Path) -> None:
    recipe = _digest((IMAGES / "uv.Dockerfile").read_bytes(), uv_binary.read_bytes())
    if _label(engine, UV_TAG) == recipe:
        return
    with tempfile.TemporaryDirectory(prefix="taskflow-uv-") as context:
        shutil.copy2(uv_binary, Path(context) / "uv")
        engine.docker(
            "build",
            "--quiet",
            "--label",
            f"{LABEL}={recipe}",
            "-f",
            str(IMAGES / "uv.Dockerfile"),
            "-t",
            UV_TAG,
            context,
            capture=True,
        )
    print(f"  {UV_TAG}: built from {uv_binary}")


def ensure_base_images(engine: Engine, uv_binary: Path) -> dict[str, str]:
    """Build whatever is missing or stale; return the image names by role."""
    debian_recipe = _debian(engine, debian_mirror())
    for base in BASES.values():
        _build(engine, base, debian_recipe)
    _uv(engine, uv_binary)
    return {**{name: base.tag for name, base in BASES.items()}, "uv": UV_TAG}
