"""The test-only compose file: deploy/compose.yaml with every service in one private network
namespace, so that the stack needs no bridge, no published port and no route off the machine.

A `netns` holder container has no network (`network_mode: none`, loopback only) and an
/etc/hosts that maps every service name to 127.0.0.1; every other service joins its namespace
(`network_mode: "service:netns"`) and so reaches the others on loopback by their usual names.
Everything else (images, commands, environment, secrets, health checks, start order) is the
real file's. The real compose.yaml keeps its default network and the gateway's published port.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

HOLDER = "netns"
# Python's default SIGTERM action does not apply to PID 1: exit on it explicitly.
HOLD = "import signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); signal.pause()"


def private_namespace_compose(source: dict[str, Any], holder_image: str) -> dict[str, Any]:
    compose = copy.deepcopy(source)
    services: dict[str, dict[str, Any]] = compose["services"]
    for spec in services.values():
        for key in ("build", "ports", "networks", "hostname"):
            spec.pop(key, None)
        spec["network_mode"] = f"service:{HOLDER}"
    services[HOLDER] = {
        "image": holder_image,
        "command": ["python", "-c", HOLD],
        "network_mode": "none",
        "extra_hosts": [f"{name}:127.0.0.1" for name in sorted(services)],
        "healthcheck": {"disable": True},
    }
    compose.pop("networks", None)
    return compose


def write_test_compose(source: Path, target: Path, holder_image: str) -> Path:
    """Written next to its `.env` and `secrets/`, which the file names relative to itself."""
    loaded = yaml.safe_load(source.read_text())
    compose = private_namespace_compose(loaded, holder_image)
    target.write_text(yaml.safe_dump(compose, sort_keys=False))
    return target
