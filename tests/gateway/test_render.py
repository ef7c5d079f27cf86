"""The renderer pastes values into nginx syntax, so it must refuse what could change the config."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from taskflow_core.config import gunicorn as gunicorn_config
from taskflow_deploy.commands import CORE_GUNICORN_CONFIG, core_command
from taskflow_deploy.gateway import Gateway, nginx_binary, render, write
from taskflow_deploy.gateway import main as gateway_main
from tests.support.processes import REPO


def gateway(tmp_path: Path, **overrides: object) -> Gateway:
    options: dict[str, object] = {
        "listen": "127.0.0.1:8080",
        "core_servers": ("127.0.0.1:8000", "127.0.0.1:8010"),
        "realtime_servers": ("127.0.0.1:8001", "127.0.0.1:8002", "127.0.0.1:8003"),
        "prefix": tmp_path / "nginx",
    }
    options.update(overrides)
    return Gateway(**options)  # type: ignore[arg-type]


def test_every_upstream_server_is_rendered_and_nginx_accepts_the_config(tmp_path: Path) -> None:
    conf = render(gateway(tmp_path))
    for port in (8000, 8010, 8001, 8002, 8003):
        assert f"server 127.0.0.1:{port} max_fails=3 fail_timeout=5s;" in conf
    assert "{{" not in conf
    binary = nginx_binary()
    assert binary is not None, "nginx is required (.ci/run installs it)"
    path = write(gateway(tmp_path))
    check = subprocess.run(
        [binary, "-t", "-p", f"{tmp_path / 'nginx'}/", "-c", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


@pytest.mark.parametrize(
    "overrides",
    [
        {"core_servers": ("127.0.0.1:8000; include /etc/passwd",)},
        {"realtime_servers": ("realtime:8001 backup",)},
        {"realtime_servers": ()},
        {"listen": "8080 default_server"},
        {"client_max_body_size": "1m; client_max_body_size 0"},
        {"auth_rate": "100r/h"},
        {"trusted_proxies": ("10.0.0.1 1; 0.0.0.0/0",)},
        {"trusted_proxies": ("proxy.example.com",)},
        {"ws_connections_per_address": 0},
        {"ws_handshake_rate": "10r/s; limit_req_zone x"},
    ],
)
def test_values_that_would_change_the_config_are_refused(
    tmp_path: Path, overrides: dict[str, object]
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (the message names the field; any is fine)
        gateway(tmp_path, **overrides)


@pytest.mark.parametrize("path", ["/srv/static files", '/srv/"static', "/srv/static;"])
def test_paths_that_would_need_quoting_are_refused(tmp_path: Path, path: str) -> None:
    with pytest.raises(ValueError, match="nginx paths"):
        render(gateway(tmp_path, static_root=Path(path)))


def test_gunicorn_keeps_idle_connections_longer_than_nginx_does(tmp_path: Path) -> None:
    """Else gunicorn may close an idle upstream connection just as nginx reuses it: a 502
    "Connection reset by peer while reading response header" (docs/reliability.md)."""
    conf = render(gateway(tmp_path))
    upstream = re.search(r"upstream core \{[^}]*\}", conf)
    assert upstream is not None
    nginx_idle = re.search(r"keepalive_timeout (\d+)s;", upstream.group())
    assert nginx_idle is not None
    assert gunicorn_config.keepalive > int(nginx_idle.group(1))
    # Every way the core runs reads that config: make run, the tests, the image.
    assert core_command("127.0.0.1:8000")[3:5] == ["-c", CORE_GUNICORN_CONFIG]
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert f'"-c", "{CORE_GUNICORN_CONFIG}"' in dockerfile


def test_the_command_line_writes_a_config_nginx_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`python -m taskflow_deploy.gateway`, as the gateway image runs it."""
    prefix = tmp_path / "nginx"
    args = ["--listen", "127.0.0.1:8080", "--core", "core:8000, core2:8000"]
    args += ["--realtime", "realtime:8001", "--prefix", str(prefix)]
    args += ["--trusted-proxies", "10.0.0.0/8", "--auth-rate", "60r/m", "--auth-burst", "5"]
    assert gateway_main(args) == 0
    path = Path(capsys.readouterr().out.strip())
    conf = path.read_text()
    assert "server core:8000 max_fails=3 fail_timeout=5s;" in conf
    assert "server core2:8000 max_fails=3 fail_timeout=5s;" in conf
    assert "server realtime:8001 max_fails=3 fail_timeout=5s;" in conf
    assert "rate=60r/m" in conf
    assert "        10.0.0.0/8 1;" in conf  # the proxies whose X-Forwarded-Proto is kept
    with pytest.raises(SystemExit):
        gateway_main(["--core", "core:8000", "--prefix", str(prefix)])  # --realtime is required
