"""The NGINX gateway: render `deploy/nginx/taskflow.conf.template` and the command that runs it.

Standard library only, so the Docker build renders the same template in a bare Python stage:

    python -m taskflow_deploy.gateway --listen 8080 --core core:8000 --realtime realtime:8001 \\
        --prefix /etc/nginx/taskflow --static-root /srv/static --web-root /srv/web
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "taskflow.conf.template"
# The web app's static files (served at `/` and `/app/`).
WEB_ROOT = Path(__file__).resolve().parents[2] / "web"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
# host:port only: the values are pasted into nginx syntax, so nothing else may get through.
_SERVER = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$")
_LISTEN = re.compile(r"^([0-9.]+:|\[[0-9a-fA-F:]+\]:)?\d{1,5}$")
_SIZE = re.compile(r"^\d+[kKmM]?$")
_RATE = re.compile(r"^\d+r/[sm]$")
_PATH = re.compile(r"^[\w./\-+@]+$")


@dataclass(frozen=True)
class Gateway:
    """Everything the rendered config depends on."""

    listen: str
    core_servers: tuple[str, ...]
    realtime_servers: tuple[str, ...]
    prefix: Path
    static_root: Path | None = None
    client_max_body_size: str = "1m"
    auth_rate: str = "30r/m"
    auth_burst: int = 10
    # Open /ws sockets per client address (an office behind one NAT address counts once).
    ws_connections_per_address: int = 200
    # New /ws sockets per client address: a rate, and the burst allowed above it at once.
    ws_handshake_rate: str = "10r/s"
    ws_handshake_burst: int = 50
    # Handshakes past the burst that wait their turn at the rate, per client address, before any
    # is refused: a client that retries as soon as it is refused then waits instead of making
    # the gateway refuse it thousands of times a second (docs/operations.md).
    ws_handshake_queue: int = 100
    worker_user: str | None = None
    web_root: Path = WEB_ROOT
    # Addresses or networks whose X-Forwarded-Proto is passed on (a TLS terminator in front).
    trusted_proxies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.core_servers or not self.realtime_servers:
            raise ValueError("the gateway needs at least one core and one realtime server")
        for server in (*self.core_servers, *self.realtime_servers):
            if not _SERVER.match(server):
                raise ValueError(f"upstream server must be host:port, got {server!r}")
        checks = [
            (_LISTEN, self.listen, "listen"),
            (_SIZE, self.client_max_body_size, "client_max_body_size"),
            (_RATE, self.auth_rate, "auth_rate"),
            (_RATE, self.ws_handshake_rate, "ws_handshake_rate"),
        ]
        for pattern, value, name in checks:
            if not pattern.match(value):
                raise ValueError(f"invalid {name}: {value!r}")
        if not 0 <= self.ws_handshake_burst <= 1_000_000:
            raise ValueError(f"invalid ws_handshake_burst: {self.ws_handshake_burst!r}")
        if not 0 <= self.ws_handshake_queue <= 100_000:
            raise ValueError(f"invalid ws_handshake_queue: {self.ws_handshake_queue!r}")
        if not 1 <= self.ws_connections_per_address <= 1_000_000:
            raise ValueError(
                f"invalid ws_connections_per_address: {self.ws_connections_per_address!r}"
            )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"trusted proxy must be an address or network: {proxy!r}"
                ) from None

    @property
    def auth_retry_after(self) -> int:
        """Seconds until the auth zone admits one more request: one interval of its rate."""
        count, unit = self.auth_rate.split("r/")
        return max(1, -(-(60 if unit == "m" else 1) // int(count)))

    @property
    def conf_path(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def log_dir(self) -> Path:
        return self.prefix / "logs"

    @property
    def access_log(self) -> Path:
        return self.log_dir / "access.log"


def _path(path: Path, suffix: str = "") -> str:
    """A path pasted into nginx syntax; refuse what would need quoting rather than quote it."""
    text = f"{path}{suffix}"
    if not _PATH.match(text):
        raise ValueError(f"nginx paths here may hold only letters, digits and ._-/+@: {text!r}")
    return text


def _servers(servers: Sequence[str]) -> str:
    return "\n".join(f"        server {server} max_fails=3 fail_timeout=5s;" for server in servers)


def _static_location(static_root: Path | None) -> str:
    if static_root is None:
        # No collected files at hand (e.g. a gateway in front of remote cores): ask the core.
        return "        location /static/ {\n            proxy_pass http://core;\n        }"
    return (
        "        location /static/ {\n"
        f"            alias {_path(static_root, '/')};\n"
        "            expires 7d;\n"
        "            access_log off;\n"
        "        }"
    )


def _trusted_proxies(proxies: Sequence[str]) -> str:
    # Normalised by ipaddress, so only digits, dots, colons and a prefix length reach nginx.
    networks = (ipaddress.ip_network(proxy, strict=False) for proxy in proxies)
    return "\n".join(f"        {network} 1;" for network in networks)


def render(gateway: Gateway, template: Path = TEMPLATE) -> str:
    values = {
        "prefix": _path(gateway.prefix),
        "log_dir": _path(gateway.log_dir),
        "listen": gateway.listen,
        "core_servers": _servers(gateway.core_servers),
        "realtime_servers": _servers(gateway.realtime_servers),
        "static_location": _static_location(gateway.static_root),
        "web_root": _path(gateway.web_root),
        "client_max_body_size": gateway.client_max_body_size,
        "auth_rate": gateway.auth_rate,
        "auth_burst": str(gateway.auth_burst),
        "ws_connections_per_address": str(int(gateway.ws_connections_per_address)),
        "ws_handshake_rate": gateway.ws_handshake_rate,
        "ws_handshake_burst": str(int(gateway.ws_handshake_burst)),
        "ws_handshake_burst_and_queue": str(
            int(gateway.ws_handshake_burst) + int(gateway.ws_handshake_queue)
        ),
        "auth_retry_after": str(gateway.auth_retry_after),
        "worker_user": f"user {gateway.worker_user};" if gateway.worker_user else "",
        "trusted_proxies": _trusted_proxies(gateway.trusted_proxies),
    }

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"unknown placeholder {{{{{name}}}}} in {template}")
        return values[name]

    return _PLACEHOLDER.sub(substitute, template.read_text())


def write(gateway: Gateway, template: Path = TEMPLATE) -> Path:
    """Render into the prefix and create the directories nginx writes to."""
    for directory in ("logs", "temp/body", "temp/proxy", "temp/fastcgi", "temp/uwsgi", "temp/scgi"):
        (gateway.prefix / directory).mkdir(parents=True, exist_ok=True)
    gateway.conf_path.write_text(render(gateway, template))
    return gateway.conf_path


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
        None,
    )


def nginx_command(gateway: Gateway, binary: str = "nginx") -> list[str]:
    """Foreground nginx with every path under the prefix (no root-owned defaults)."""
    return [binary, "-p", f"{gateway.prefix}/", "-c", str(gateway.conf_path), "-g", "daemon off;"]


def current_worker_user() -> str | None:
    """As root, keep the workers as the invoking user: the default `nobody` could not read a
    checkout in a 0700 home. Unprivileged, nginx cannot switch users and needs no directive."""
    return getpass.getuser() if os.geteuid() == 0 else None


def split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taskflow_deploy.gateway")
    parser.add_argument("--listen", default="8080", help="port or address:port")
    parser.add_argument("--core", required=True, help="comma-separated host:port of core servers")
    parser.add_argument("--realtime", required=True, help="comma-separated host:port")
    parser.add_argument("--prefix", required=True, type=Path)
    parser.add_argument("--static-root", type=Path, default=None)
    parser.add_argument("--web-root", type=Path, default=WEB_ROOT)
    parser.add_argument("--client-max-body-size", default="1m")
    parser.add_argument("--auth-rate", default="30r/m")
    parser.add_argument("--auth-burst", type=int, default=10)
    parser.add_argument("--ws-connections-per-address", type=int, default=200)
    parser.add_argument("--ws-handshake-rate", default="10r/s")
    parser.add_argument("--ws-handshake-burst", type=int, default=50)
    parser.add_argument("--ws-handshake-queue", type=int, default=100)
    parser.add_argument(
        "--trusted-proxies",
        default="",
        help="comma-separated addresses/networks whose X-Forwarded-Proto is passed on",
    )
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    args = parser.parse_args(argv)
    gateway = Gateway(
        listen=args.listen,
        core_servers=split_list(args.core),
        realtime_servers=split_list(args.realtime),
        prefix=args.prefix,
        static_root=args.static_root,
        web_root=args.web_root,
        client_max_body_size=args.client_max_body_size,
        auth_rate=args.auth_rate,
        auth_burst=args.auth_burst,
        ws_connections_per_address=args.ws_connections_per_address,
        ws_handshake_rate=args.ws_handshake_rate,
        ws_handshake_burst=args.ws_handshake_burst,
        ws_handshake_queue=args.ws_handshake_queue,
        trusted_proxies=split_list(args.trusted_proxies),
    )
    print(write(gateway, args.template))
    return 0


if __name__ == "__main__":
    sys.exit(main())
