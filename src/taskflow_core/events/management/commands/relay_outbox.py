"""`python manage.py relay_outbox`: run the outbox relay until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from taskflow_core.events.relay import OutboxRelay


class Command(BaseCommand):
    help = "Publish outbox events the after-commit hook missed, and prune old ones."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        relay = OutboxRelay(
            poll_seconds=settings.TASKFLOW_RELAY_POLL_MS / 1000,
            grace_seconds=settings.TASKFLOW_RELAY_GRACE_MS / 1000,
            retention_seconds=settings.TASKFLOW_OUTBOX_RETENTION_HOURS * 3600,
        )
        if options["once"]:
            published = relay.run_once()
            self.stdout.write(f"published {published} event(s)")
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: relay.stop.set())
        self.stdout.write("outbox relay running")
        relay.run_forever()
        self.stdout.write("outbox relay stopped")
