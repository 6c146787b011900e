"""The row writer: COPY on PostgreSQL, batched executemany on SQLite, and timestamp text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from functools import cache
from itertools import islice

from django.db import connection
from django.db.models import Model

from crm.services.demo_data.vocabulary import DAY


class _Writer:
    """Writes rows with explicit ids: COPY on PostgreSQL, executemany on SQLite."""

    batch_size = 5_000

    def __init__(self) -> None:
        self.vendor = connection.vendor
        if self.vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"Demo data needs PostgreSQL or SQLite, not {self.vendor}")
        self.timestamp = _TimestampFormat(suffix="+00" if self.vendor == "postgresql" else "")

    def reserve_ids(self, model: type[Model], count: int) -> list[int]:
        if count == 0:
            return []
        table = model._meta.db_table
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: the chunk's transaction began IMMEDIATE and holds the write lock.
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            first = cursor.fetchone()[0] + 1
            return list(range(first, first + count))

    def write(self, model: type[Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        column_of = {
            model_field.name: model_field.column
            for model_field in model._meta.concrete_fields
            if model_field.column
        }
        columns = ", ".join(quote(column_of[name]) for name in fields)
        written = 0
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        written += 1
                return written
            placeholders = ", ".join(["%s"] * len(fields))
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
            for batch in _batches(rows, self.batch_size):
                cursor.executemany(sql, batch)
                written += len(batch)
        return written


def _batches(rows: Iterable[tuple], size: int) -> Iterator[list[tuple]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


@cache
def _times_of_day() -> list[str]:
    return [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]


class _TimestampFormat:
    """Epoch seconds to the text each database stores for an aware UTC datetime.

    Formatting ten million datetimes through `datetime` objects costs more than drawing them;
    days are cached and the time of day is a list lookup.
    """

    def __init__(self, suffix: str) -> None:
        self._suffix = suffix
        self._days: dict[int, str] = {}
        self._times = _times_of_day()

    def __call__(self, timestamp: int) -> str:
        day, second = divmod(timestamp, DAY)
        return f"{self.date(day)} {self._times[second]}{self._suffix}"

    def date(self, day: int) -> str:
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = (date(1970, 1, 1) + timedelta(days=day)).isoformat()
        return text
