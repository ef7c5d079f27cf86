"""`make run`: migrate, then run every process of the stack under honcho until Ctrl-C."""

from __future__ import annotations

import os
import subprocess
import sys

from honcho.manager import Manager


def processes() -> dict[str, str]:
    python = sys.executable
    api_port = os.environ.get("TASKFLOW_API_PORT", "8000")
    return {
        "core": (
            f"{python} -m gunicorn taskflow_core.config.wsgi --bind 127.0.0.1:{api_port}"
            " --workers 2 --threads 8 --access-logfile - --access-logformat"
            " '%(h)s \"%(m)s %(U)s\" %(s)s %(b)s %(L)ss'"
        ),
    }


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "taskflow_core.config.settings.local")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], check=True)  # noqa: S603
    subprocess.run([*manage, "collectstatic", "--no-input", "-v", "0"], check=True)  # noqa: S603
    manager = Manager()
    for name, command in processes().items():
        manager.add_process(name, command, env=dict(os.environ))
    api_port = os.environ.get("TASKFLOW_API_PORT", "8000")
    print(f"TaskFlow Pro core API: http://127.0.0.1:{api_port}/api/v1/  (docs: /api/docs/)")
    manager.loop()
    return int(manager.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())
