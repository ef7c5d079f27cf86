"""`insert`: what `Model.save()` does for a new row, without building the INSERT through the
ORM's query compiler on every call.

The create path writes two rows per request (the task and its outbox event); compiling their
INSERTs cost more CPU than the statements themselves (bench/NOTES.md, "P2"). The SQL is built
once per model from its concrete fields; each value still goes through the field's `pre_save`
(`auto_now_add`, defaults already set by `__init__`) and `get_db_prep_save` (JSON encoders,
arrays), exactly as the ORM prepares it. No model signals are sent: nothing in the project
listens to them (a receiver for a model written here would have to move to `Model.save`).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connection
from django.db.models import Field, Model


@cache
def _insert_plan(model: type[Model]) -> tuple[list[Field[Any, Any]], str]:
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [field for field in meta.concrete_fields if field is not pk]
    placeholders = [
        field.get_placeholder(None, None, connection) if hasattr(field, "get_placeholder") else "%s"
        for field in fields
    ]
    quote = connection.ops.quote_name
    # Model metadata only (table and column names), never input.
    sql = "INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {pk}".format(  # noqa: S608
        table=quote(meta.db_table),
        columns=", ".join(quote(str(field.column)) for field in fields),
        values=", ".join(placeholders),
        pk=quote(str(pk.column)),
    )
    return fields, sql


def insert(instance: Model) -> None:
    """INSERT `instance` (new, with an auto primary key) and set its `pk`, as `save()` would."""
    fields, sql = _insert_plan(type(instance))
    values = []
    for field in fields:
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):  # a database-side default or expression
            instance.save(force_insert=True)
            return
        values.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias
