"""What a chunk of rows becomes: cleaned rows, refusals, and the plan of what to write."""

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.contrib.auth.models import AbstractUser
from django.db import connection
from django.db.models import Field, Model, Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.imports.cleaning import text_of
from crm.imports.mapping import Header
from crm.imports.reading import Row
from crm.models import SourceRecord
from crm.selectors import customer_visibility_q, user_can_see_all_customers

VALUE_MAX_LENGTH = 500  # ImportRowError.value


@dataclass(frozen=True)
class Refusal:
    row_number: int
    column: str
    value: str
    reason: str | Promise


@dataclass
class ParsedRow:
    number: int
    cells: Row
    values: dict[str, Any]  # the cleaned values of the cells that are not blank


@dataclass
class Plan:
    """A chunk, classified: the rows to create and update (ready for the writer), how many
    are unchanged, and the refused rows with their reasons."""

    creates: list[Any] = field(default_factory=list)
    updates: list[Any] = field(default_factory=list)
    unchanged: int = 0
    differing: list[int] = field(default_factory=list)  # unchanged rows whose data differs
    refusals: list[Refusal] = field(default_factory=list)
    refused_rows: set[int] = field(default_factory=set)

    def refuse(self, refusal: Refusal) -> None:
        self.refusals.append(refusal)
        self.refused_rows.add(refusal.row_number)


@dataclass
class ImportContext:
    """One run of one file: who imports it, from which source, and what the header says."""

    kind: str
    source: str
    actor: AbstractUser | None
    header: Header
    started_at: datetime
    change_reason: str
    dry_run: bool = False

    def refusal(
        self, row: ParsedRow, field_name: str, reason: str | Promise, *, value: Any = None
    ) -> Refusal:
        column = self.header.columns.get(field_name)
        if value is None and column is not None and column < len(row.cells):
            value = row.cells[column]
        return Refusal(
            row_number=row.number,
            column=self.header.titles.get(field_name, field_name),
            value=text_of(value)[:VALUE_MAX_LENGTH],
            reason=reason,
        )

    @property
    def sees_all_customers(self) -> bool:
        return self.actor is None or user_can_see_all_customers(self.actor)

    def customer_ids(self, external_ids: set[str]) -> dict[str, int]:
        """The customers of this source named in a chunk, that the importing user may see:
        one query."""
        if self.sees_all_customers:
            return dict(
                rows_by_external_id(
                    SourceRecord, ("external_id", "customer_id"), self.source, external_ids
                )
            )
        records = SourceRecord.objects.filter(source=self.source, external_id__in=external_ids)
        records = records.filter(self.visible_q(prefix="customer__"))
        return dict(records.values_list("external_id", "customer_id"))

    def visible_q(self, *, prefix: str = "") -> Q:
        if self.actor is None:
            return Q()
        return customer_visibility_q(self.actor, prefix=prefix)

    def unknown_customer_reason(self) -> Promise:
        if self.sees_all_customers:
            return _("No customer has this id in this source.")
        return _("No customer you may see has this id in this source.")


def rows_by_external_id(
    model: type[Model], fields: Sequence[str], source: str, external_ids: set[str]
) -> list[tuple]:
    """`fields` of the rows of one source named by a chunk's external ids, in one query.

    On PostgreSQL the ids go as one parameter (`= ANY(...)`): an IN list of thousands of
    placeholders costs more to compose and parse than the lookup itself.
    """
    if connection.vendor != "postgresql":
        queryset = model._default_manager.filter(source=source, external_id__in=external_ids)
        return list(queryset.values_list(*fields))
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(str(cast(Field, model._meta.get_field(name)).column)) for name in fields
    )
    with connection.cursor() as cursor:
        # One text, split by the server: cheaper than adapting a list of strings. Ids hold no
        # control characters (clean_code refuses them).
        cursor.execute(
            f"SELECT {columns} FROM {quote(model._meta.db_table)} "  # noqa: S608 (model names)
            "WHERE source = %s AND external_id = ANY(string_to_array(%s, chr(31)))",
            [source, "\x1f".join(external_ids)],
        )
        return cursor.fetchall()


class KindImport:
    """How one kind of row is keyed, checked against the database and written.

    `plan` makes a fixed number of queries per chunk, whatever its size; `write` is set-based.
    """

    key_fields: tuple[str, ...] = ("external_id",)
    duplicate_reason = _("Row %(row)s has the same id.")

    def __init__(self, context: ImportContext) -> None:
        self.context = context

    def key(self, values: dict[str, Any]) -> Hashable | None:
        """What makes a row unique in a file. The engine keeps one per row read, so a file of
        a million ids costs memory: a single id is kept as itself, not in a tuple."""
        if len(self.key_fields) == 1:
            return values.get(self.key_fields[0]) or None
        key = tuple(values.get(name) for name in self.key_fields)
        return None if any(part in (None, "") for part in key) else key

    def complete(self, row: ParsedRow) -> list[tuple[str, str | Promise]]:
        """Rules within one row (beyond its cells): [(field, reason)]."""
        return []

    def plan(self, rows: list[ParsedRow]) -> Plan:
        raise NotImplementedError

    def write(self, plan: Plan) -> None:
        raise NotImplementedError
