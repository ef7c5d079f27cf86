"""How a deadline reads in a notification and in its email."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import dateformat
from django.utils.timesince import timesince, timeuntil


def deadline_text(due_at: datetime) -> str:
    """`Saturday 28 November 2026, 14:30 UTC`: users have no time zone setting yet."""
    return dateformat.format(due_at.astimezone(UTC), "l j F Y, H:i") + " UTC"


def deadline_relative(due_at: datetime, now: datetime) -> str:
    """`in 30 minutes` or `2 hours ago`."""
    # timesince joins number and unit with a no-break space, which mail clients mangle.
    if due_at > now:
        return "in " + timeuntil(due_at, now, depth=1).replace("\xa0", " ")
    return timesince(due_at, now, depth=1).replace("\xa0", " ") + " ago"
