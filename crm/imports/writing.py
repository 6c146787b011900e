"""Set-based writes of a chunk: never one query per row.

PostgreSQL: COPY into a temporary staging table, then one `INSERT ... SELECT ... ON CONFLICT`
that updates a row only where a column differs. SQLite: one `executemany` of
`INSERT ... VALUES ... ON CONFLICT` (SQLite runs it in C; the log sees one query).
The caller holds the chunk's transaction.
"""

from collections.abc import Sequence
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model

STAGE_TABLE = "crm_import_stage"


def upsert(
    model: type[Model],
    *,
    fields: Sequence[str],
    rows: Sequence[tuple],
    unique: Sequence[str],
    update: Sequence[str] = (),
) -> None:
    """Insert `rows` (values in the order of `fields`); a row whose `unique` fields are stored
    already updates the `update` fields, and only where they differ; without `update` it is
    left alone (DO NOTHING)."""
    if not rows:
        return
    columns = _columns(model, fields)
    if connection.vendor == "postgresql":
        _postgresql_upsert(model, columns, rows, _columns(model, unique), _columns(model, update))
    else:
        values = _sqlite_values(model, fields, rows)
        _sqlite_upsert(model, columns, values, _columns(model, unique), _columns(model, update))


def _columns(model: type[Model], names: Sequence[str]) -> list[str]:
    return [str(cast(Field, model._meta.get_field(name)).column) for name in names]


def _conflict_sql(table: str, unique: list[str], update: list[str], distinct: str) -> str:
    quote = connection.ops.quote_name
    target = ", ".join(quote(column) for column in unique)
    if not update:
        return f"ON CONFLICT ({target}) DO NOTHING"
    assignments = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in update)
    # Rewriting a row with its own values still costs a dead tuple and its index entries.
    changed = " OR ".join(
        f"{quote(table)}.{quote(c)} {distinct} EXCLUDED.{quote(c)}" for c in update
    )
    return f"ON CONFLICT ({target}) DO UPDATE SET {assignments} WHERE {changed}"


def _postgresql_upsert(
    model: type[Model],
    columns: list[str],
    rows: Sequence[tuple],
    unique: list[str],
    update: list[str],
) -> None:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    column_list = ", ".join(quote(column) for column in columns)
    types = {field.column: field.db_type(connection) for field in model._meta.concrete_fields}
    definitions = ", ".join(f"{quote(column)} {types[column]}" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {STAGE_TABLE} ({definitions}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {STAGE_TABLE} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conflict = _conflict_sql(table, unique, update, "IS DISTINCT FROM")
        cursor.execute(
            f"INSERT INTO {quote(table)} ({column_list}) "  # noqa: S608 (names from the model)
            f"SELECT {column_list} FROM {STAGE_TABLE} {conflict}"
        )
        cursor.execute(f"DROP TABLE {STAGE_TABLE}")


def _sqlite_values(model: type[Model], fields: Sequence[str], rows: Sequence[tuple]) -> list:
    prepare = [cast(Field, model._meta.get_field(name)).get_db_prep_save for name in fields]
    return [
        tuple(to_db(value, connection) for to_db, value in zip(prepare, row, strict=True))
        for row in rows
    ]


def _sqlite_upsert(
    model: type[Model], columns: list[str], rows: list[Any], unique: list[str], update: list[str]
) -> None:
    quote = connection.ops.quote_name
    table = model._meta.db_table
    column_list = ", ".join(quote(column) for column in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    conflict = _conflict_sql(table, unique, update, "IS NOT")
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(table)} ({column_list}) VALUES ({placeholders}) {conflict}",  # noqa: S608
            rows,
        )
