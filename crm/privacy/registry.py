"""What each app holds about a customer: its exporter and its anonymiser.

crm owns the export and the erasure but never imports loyalty or workflows (apps depend one
way). Each app registers a `PrivacyHandler` from its `AppConfig.ready()`, like its panels:

- `sections(customer_id)` gives `(name, queryset)` pairs; each queryset is a `.values()` query
  read in chunks, so an export costs one query per table, whatever the customer's history.
- `anonymise(context)` replaces the app's personal data of `context.customer_id` with
  anonymous values in set-based UPDATEs/DELETEs, inside the erasure's transaction, and returns
  the rows touched per table (the request's summary).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

Sections = Iterable[tuple[str, QuerySet]]


@dataclass(frozen=True)
class AnonymiseContext:
    customer_id: int
    request_id: int
    actor: Any
    now: datetime
    # (storage, name) of files to delete once the erasure has committed (storage is not
    # transactional).
    files_to_delete: list[tuple[Any, str]] = field(default_factory=list)

    def delete_with_files(self, rows: QuerySet, file_field: str = "file") -> int:
        """Delete `rows` (a queryset) and queue their stored files for deletion after commit;
        the number of rows deleted."""
        storage = rows.model._meta.get_field(file_field).storage
        names = rows.values_list(file_field, flat=True)
        self.files_to_delete.extend((storage, name) for name in names if name)
        return rows.delete()[0]


@dataclass(frozen=True)
class PrivacyHandler:
    key: str
    sections: Callable[[int], Sections]
    anonymise: Callable[[AnonymiseContext], dict[str, int]]
    order: int = 100


_handlers: dict[str, PrivacyHandler] = {}


def register_privacy_handler(handler: PrivacyHandler) -> None:
    _handlers[handler.key] = handler


def unregister_privacy_handler(key: str) -> None:
    _handlers.pop(key, None)


def privacy_handlers() -> list[PrivacyHandler]:
    return sorted(_handlers.values(), key=lambda h: (h.order, h.key))
