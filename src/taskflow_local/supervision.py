"""How the local runner stops: SIGINT (Ctrl-C), SIGTERM (`make stop`) and SIGHUP (the terminal
closed) all stop every process, and a stop that was asked for ends with exit status 0.

honcho's Manager handles SIGINT and SIGTERM only (a hangup killed it and orphaned every
service), and exits 130/143 after a Ctrl-C, which make reports as "Error 130".
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import FrameType

from honcho.manager import Manager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def detach_from_terminal(log: Path) -> None:
    """After a hangup the terminal is gone and writing to it fails (EIO): send this process's
    output to `log` instead, so the orderly stop that follows cannot crash on a print."""
    if not os.isatty(1) and not os.isatty(2):
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


class StackManager(Manager):
    """honcho's Manager, also stopping on SIGHUP, and remembering whether a stop was asked for."""

    def __init__(self, hangup_log: Path) -> None:
        super().__init__()
        self.hangup_log = hangup_log
        self.stop_signal: signal.Signals | None = None

    def _start(self) -> None:
        # Manager.loop() installs its own SIGINT/SIGTERM handlers and then calls _start(). The
        # helper processes honcho forks here (the parents of the services) must survive a hangup
        # so that they report each service's exit: they inherit SIGHUP ignored.
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        super()._start()
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._stop_requested)

    def _stop_requested(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            detach_from_terminal(self.hangup_log)
        if self.stop_signal is None:
            self.stop_signal = signal.Signals(signum)
            self._system_print(f"{self.stop_signal.name} received: stopping every process\n")
        self.terminate()

    @property
    def exit_status(self) -> int:
        """0 after a requested stop; else the status of the process whose exit ended the stack."""
        if self.stop_signal is not None:
            return 0
        return int(self.returncode or 0)
