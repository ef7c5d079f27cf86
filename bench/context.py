"""What every benchmark is given: the mode, the services' environment, a logger."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from bench.modes import Mode

HOST = "127.0.0.1"


@dataclass
class Context:
    mode: Mode
    env: dict[str, str]
    started: float

    @property
    def redis_url(self) -> str:
        return self.env["REDIS_URL"]

    def log(self, message: str) -> None:
        print(
            f"[bench {time.monotonic() - self.started:7.1f}s] {message}",
            file=sys.stderr,
            flush=True,
        )

    def bearer(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}
