"""A cursor whose statements are prepared: parsed and planned once per database connection.

Django sends every query with its parameters written into the text (psycopg's client-side
binding), so PostgreSQL parses, analyses and plans each one afresh. For a simple query that
costs little; for the create's one statement (`tasks/clock.py`: five data-modifying CTEs) the
parsing and planning cost PostgreSQL more than running it: 0.45 ms of its CPU per create here
(bench/NOTES.md, "P2"). `prepared_cursor` sends its statements with server-side binding and
has psycopg prepare each one: the first execution on a connection prepares it, every later one
only binds its parameters.

Only the statements run through it are prepared; the ORM's are not (Django's cursors never
prepare). A prepared statement lives in its server session, so a pooler in front of PostgreSQL
must keep a client's session, or support protocol-level prepared statements (PgBouncer does
since 1.21): docs/operations.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from django.db import connection
from django.db.backends.utils import CursorWrapper
from psycopg import ClientCursor, Cursor

# psycopg prepares nothing while its connection's threshold is None (Django's default, for
# poolers). With a number it prepares what `PreparedCursor` asks for at once; other
# server-binding cursors' statements would be prepared after this many runs (there are none).
PREPARE_THRESHOLD = 5


class PreparedCursor(Cursor[Any]):
    """psycopg's server-binding cursor (as Django's with `server_side_binding`), preparing."""

    _statement: tuple[Any, Any] | None = None

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        self._statement = (query, params)
        return super().execute(query, params, prepare=True, **kwargs)

    # Django's query log (`last_executed_query`, only when queries are logged: DEBUG, or a test
    # counting them) reads the sent text from `_query`, which psycopg sets only for statements
    # it does not prepare: the statement is rendered with its parameters when read.
    @property
    def _query(self) -> Any:
        if self._statement is None:
            return None
        query, params = self._statement
        text = ClientCursor(self.connection).mogrify(query, params)
        return SimpleNamespace(query=text.encode())

    @_query.setter
    def _query(self, value: Any) -> None:
        pass  # psycopg's own bookkeeping of an unprepared statement's text


@contextmanager
def prepared_cursor() -> Iterator[CursorWrapper]:
    """Like `connection.cursor()` — the health check, the connection, Django's wrappers (so the
    statement is logged and counted as any other) — with its statements prepared."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    raw = connection.connection
    if raw.prepare_threshold is None:
        raw.prepare_threshold = PREPARE_THRESHOLD
    with connection.wrap_database_errors:
        # What `connection.cursor()` does with the cursor it creates (`_prepare_cursor`: the
        # thread check and the wrapper, debug or not); stable since Django 1.x.
        cursor = connection._prepare_cursor(PreparedCursor(raw))  # type: ignore[attr-defined]
    with cursor:
        yield cursor
