"""`insert`: what `Model.save()` does for a new row, without building the INSERT through the
ORM's query compiler on every call.

The create path writes two rows per request (the task and its outbox event); compiling their
INSERTs cost more CPU than the statements themselves (bench/NOTES.md, "P2"). The SQL is built
once per model from its concrete fields; each value still goes through the field's `pre_save`
(`auto_now_add`, defaults already set by `__init__`) and `get_db_prep_save` (JSON encoders,
arrays), exactly as the ORM prepares it. No model signals are sent: nothing in the project
listens to them (a receiver for a model written here would have to move to `Model.save`).

One exception to "as the ORM prepares it": an array of integers (an event's recipients, 5,000
ids for a large team) is sent as one array literal (`'{1,2,3}'::bigint[]`). The ORM prepares
it element by element, wrapping each id for the driver, which then quotes it: 30 ms of a
5,000-member create's CPU, against under 1 ms for the literal (bench/NOTES.md, "P4").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import connection, connections
from django.db.models import Field, IntegerField, Model


@dataclass(frozen=True)
class InsertPlan:
    table: str
    columns: list[str]  # quoted, in the order of `fields`
    placeholders: list[str]
    fields: list[Field[Any, Any]]
    pk: str

    @property
    def sql(self) -> str:
        # Model metadata only (table and column names), never input.
        return "INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {pk}".format(  # noqa: S608
            table=self.table,
            columns=", ".join(self.columns),
            values=", ".join(self.placeholders),
            pk=self.pk,
        )


@cache
def insert_plan(model: type[Model]) -> InsertPlan:
    """The INSERT of a new `model` row with an auto primary key, built from its metadata."""
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [field for field in meta.concrete_fields if field is not pk]
    quote = connection.ops.quote_name
    return InsertPlan(
        table=quote(meta.db_table),
        columns=[quote(str(field.column)) for field in fields],
        placeholders=[_placeholder(field) for field in fields],
        fields=fields,
        pk=quote(str(pk.column)),
    )


def _integer_array(field: Field[Any, Any]) -> bool:
    return isinstance(field, ArrayField) and isinstance(field.base_field, IntegerField)


def _placeholder(field: Field[Any, Any]) -> str:
    if _integer_array(field):
        # The literal is text until cast; inside INSERT ... SELECT nothing would cast it.
        return f"%s::{field.db_type(connection)}"
    if hasattr(field, "get_placeholder"):
        return str(field.get_placeholder(None, None, connection))
    return "%s"


def _integer_array_literal(value: Any) -> Any:
    """`[1, 2, 3]` as `'{1,2,3}'`; `int()` refuses what the ORM's preparation would refuse."""
    if value is None:
        return None
    return "{" + ",".join(map(str, map(int, value))) + "}"


def insert_values(instance: Model) -> list[Any] | None:
    """The values the ORM would write for new `instance`, in `insert_plan`'s order; None if a
    field has a database-side default or expression (then only `save()` can write it)."""
    values = []
    # The thread's own connection: the `connection` proxy resolves itself on every attribute.
    database = connections[connection.alias]
    for field in insert_plan(type(instance)).fields:
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):
            return None
        if _integer_array(field):
            values.append(_integer_array_literal(value))
        else:
            values.append(field.get_db_prep_save(value, database))
    return values


def inserted(instance: Model, pk: int) -> None:
    """Mark `instance` as the row just inserted under `pk`, as `save()` would."""
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def insert(instance: Model) -> None:
    """INSERT `instance` (new, with an auto primary key) and set its `pk`, as `save()` would."""
    values = insert_values(instance)
    if values is None:
        instance.save(force_insert=True)
        return
    with connection.cursor() as cursor:
        cursor.execute(insert_plan(type(instance)).sql, values)
        row = cursor.fetchone()
    inserted(instance, row[0])
