"""`make docker-env`: write `deploy/.env` from the example with fresh random secrets, and the JWT
key pair into `deploy/secrets/` for `docker compose`. Existing secrets are never overwritten.

Compose mounts a file secret with its host owner and mode (docs/operations.md), so the private key
is made 0640 with a group the app containers' user (uid 10001) is given: the image's own group
10001 when this runs as root, else the invoking user's group; `.env` records which one
(`TASKFLOW_SECRETS_GID`, added to the containers by `group_add`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from taskflow_local.keys import ensure_jwt_keys

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CONTAINER_GID = 10001  # the app image's group (deploy/Dockerfile)
PRIVATE_KEY_MODE = 0o640


def _secret_key() -> str:
    return secrets.token_urlsafe(50)


def _postgres_password() -> str:
    return secrets.token_hex(24)  # hex: nothing to escape inside DATABASE_URL


GENERATED: dict[str, Callable[[], str]] = {
    "SECRET_KEY": _secret_key,
    "POSTGRES_PASSWORD": _postgres_password,
}


def env_from_example(example: str) -> str:
    for name, make in GENERATED.items():
        example = re.sub(rf"^{name}=.*$", f"{name}={make()}", example, flags=re.MULTILINE)
    return example


def with_value(env: str, name: str, value: str) -> str:
    """`env` with `name=value`, replacing an existing line or appending one."""
    line = f"{name}={value}"
    if re.search(rf"^{name}=", env, flags=re.MULTILINE):
        return re.sub(rf"^{name}=.*$", line, env, flags=re.MULTILINE)
    return env.rstrip("\n") + f"\n{line}\n"


def restrict_private_key(private: Path) -> int:
    """Make the key readable by its owner and one group only; return that group's id."""
    private.chmod(PRIVATE_KEY_MODE)
    # Allowed as root or for a group the user is in; otherwise the user's own group stays.
    with contextlib.suppress(PermissionError):
        os.chown(private, -1, CONTAINER_GID)
    return private.stat().st_gid


def main(deploy: Path = DEPLOY) -> int:
    env_path = deploy / ".env"
    if env_path.exists():
        print(f"{env_path} exists; left as is.")
    else:
        env_path.touch(mode=0o600)
        env_path.write_text(env_from_example((deploy / ".env.example").read_text()))
        print(f"Wrote {env_path} with fresh SECRET_KEY and POSTGRES_PASSWORD.")
    private, public = ensure_jwt_keys(deploy / "secrets")
    gid = restrict_private_key(private)
    env_path.write_text(with_value(env_path.read_text(), "TASKFLOW_SECRETS_GID", str(gid)))
    print(f"JWT keys: {private} (mode 0640, group {gid}: core, worker, relay, beat)")
    print(f"      and {public} (realtime too).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
