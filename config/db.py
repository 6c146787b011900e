"""Reports read from a PostgreSQL read replica when one is configured.

`DATABASE_REPLICA_URL` adds the `replica` alias (settings). Code that only reads, and may read
data a moment old, wraps itself in `read_replica()` (a context manager and a decorator): while
it runs, the router sends the ORM's reads to the replica; writes always go to `default`.
Without a replica (`DATABASE_READ_REPLICA` unset) everything stays on `default`.
"""

from __future__ import annotations

from contextlib import ContextDecorator
from contextvars import ContextVar, Token

from django.conf import settings

_reading_reports: ContextVar[bool] = ContextVar("reading_reports", default=False)


def replica_alias() -> str:
    """The alias report reads use now: the replica inside `read_replica()` if there is one."""
    alias = getattr(settings, "DATABASE_READ_REPLICA", None)
    if alias and _reading_reports.get():
        return alias
    return "default"


class read_replica(ContextDecorator):  # noqa: N801 - used like a function: `with read_replica():`
    """Routes the ORM's reads to the replica (if configured) while the block or function runs."""

    def __init__(self) -> None:
        self._tokens: list[Token[bool]] = []

    def _recreate_cm(self) -> read_replica:
        return type(self)()  # one per call of a decorated function: threads never share it

    def __enter__(self) -> read_replica:
        self._tokens.append(_reading_reports.set(True))
        return self

    def __exit__(self, *exc: object) -> None:
        _reading_reports.reset(self._tokens.pop())


class ReplicaRouter:
    """Reads inside `read_replica()` go to the replica; nothing else is routed."""

    def db_for_read(self, model, **hints):
        alias = replica_alias()
        return alias if alias != "default" else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as default

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
