"""`make docker-env`: write `deploy/.env` from the example with fresh random secrets, and the JWT
key pair into `deploy/secrets/` for `docker compose`. Existing files are never overwritten."""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from taskflow_local.keys import ensure_jwt_keys

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


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


def main(deploy: Path = DEPLOY) -> int:
    env_path = deploy / ".env"
    if env_path.exists():
        print(f"{env_path} exists; left as is.")
    else:
        env_path.touch(mode=0o600)
        env_path.write_text(env_from_example((deploy / ".env.example").read_text()))
        print(f"Wrote {env_path} with fresh SECRET_KEY and POSTGRES_PASSWORD.")
    private, public = ensure_jwt_keys(deploy / "secrets")
    # Compose bind-mounts file secrets with their host permissions; the containers' unprivileged
    # user must be able to read the key, so keep the deploy directory itself private instead.
    private.chmod(0o644)
    print(f"JWT keys: {private} (core, worker, relay, beat) and {public} (realtime too).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
