"""`python -m taskflow_local exec -- CMD...`: run CMD with PostgreSQL, Redis and dev secrets ready.
`python -m taskflow_local stop`: stop the `make run` stack running from this checkout.

Whatever the environment already configures is used as is; the rest is provided from
`.taskflow/` (embedded servers, generated keys), and embedded servers stop when CMD ends, whether
it ends by itself, by Ctrl-C, SIGTERM or a hangup (the terminal closed).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

from taskflow_local import stackfile
from taskflow_local.embedded import services
from taskflow_local.keys import ensure_jwt_keys, ensure_secret_key
from taskflow_local.supervision import detach_from_terminal


def local_environment(root: Path) -> dict[str, str]:
    # TASKFLOW_SUPERVISOR_PID: the stack records this process as the one to wait for on stop.
    env: dict[str, str] = {"TASKFLOW_ENV_READY": "1", "TASKFLOW_SUPERVISOR_PID": str(os.getpid())}
    if not os.environ.get("JWT_PRIVATE_KEY") and not os.environ.get("JWT_PRIVATE_KEY_FILE"):
        private_path, public_path = ensure_jwt_keys(root / "keys")
        env["JWT_PRIVATE_KEY_FILE"] = str(private_path)
        env["JWT_PUBLIC_KEY_FILE"] = str(public_path)
    if not os.environ.get("SECRET_KEY"):
        env["SECRET_KEY"] = ensure_secret_key(root / "keys" / "django_secret_key")
    return env


def run(command: list[str], root: Path) -> int:
    env = dict(os.environ)
    env.update(local_environment(root))
    os.environ.update(env)
    with services(root) as urls:
        env.update(urls)
        child = subprocess.Popen(command, env=env)  # noqa: S603

        def pass_on(signum: int, frame: object) -> None:
            if signum == signal.SIGHUP:
                detach_from_terminal(root / "logs" / "run-after-hangup.log")
            child.send_signal(signum)

        # Ctrl-C reaches the whole foreground group; SIGTERM or a hangup to us is passed on to
        # the child, and we wait for it, then stop the databases.
        signal.signal(signal.SIGTERM, pass_on)
        signal.signal(signal.SIGHUP, pass_on)
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                continue


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taskflow_local")
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("exec", help="run a command with databases and secrets ready")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("stop", help="stop the `make run` stack started from this checkout")
    args = parser.parse_args(argv)
    root = Path(os.environ.get("TASKFLOW_HOME", ".taskflow")).resolve()
    if args.action == "stop":
        return stackfile.stop(root)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("exec needs a command")
    return run(command, root)


if __name__ == "__main__":
    sys.exit(main())
