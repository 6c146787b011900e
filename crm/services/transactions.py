"""Writes of transactions: batches that other systems push, idempotent on (source, external id).

Transactions are immutable. A row whose (source, external id) is already stored is reported as
"exists" and left as it is, so a batch sent twice stores its transactions once.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm.models import Transaction
from crm.selectors import User, customer_list
from crm.signals import transactions_stored

CREATED, EXISTS = "created", "exists"
ROW_FIELDS = (
    "source",
    "external_id",
    "kind",
    "amount",
    "currency",
    "category",
    "channel",
    "payment_method",
    "merchant",
    "occurred_at",
)

Key = tuple[str, str]  # (source, external id)
RowErrors = dict[str, list[str | Promise]]


@dataclass(frozen=True)
class TransactionResult:
    index: int
    external_id: str
    status: str  # CREATED or EXISTS
    id: int


@dataclass(frozen=True)
class _Original:
    """What a refund is checked against: a stored transaction or an earlier row of the batch."""

    customer_id: int | None
    kind: str
    amount: Decimal
    currency: str


@dataclass(frozen=True)
class _Stored(_Original):
    id: int


class TransactionRowsInvalid(ValidationError):
    """Rows of a batch that break a rule, as {row index: {field: [reasons]}}. Nothing was stored."""

    def __init__(self, row_errors: dict[int, RowErrors]) -> None:
        super().__init__(_("Some transactions are invalid; none was stored."), code="invalid_rows")
        self.row_errors = row_errors


def _key(row: dict[str, Any]) -> Key:
    return row["source"], row["external_id"]


def _original_key(row: dict[str, Any]) -> Key | None:
    if row.get("refund_of_external_id"):
        return row["source"], row["refund_of_external_id"]
    return None


@transaction.atomic
def transaction_batch_create(*, actor: User, rows: list[dict[str, Any]]) -> list[TransactionResult]:
    """Store a batch of rows, all or nothing, in a number of queries that does not grow with it.

    Rows are cleaned values, every field of `ROW_FIELDS` present. A row names its customer by
    our id (`customer`) or by a source system's id (`customer_source`, `customer_external_id`);
    it must be a customer the actor may see. A refund names its original by
    `refund_of_external_id` in its own source: a stored transaction or an earlier row of the
    batch, of the same customer and currency, for no less than the refund.

    Raises `TransactionRowsInvalid` if any row breaks a rule; otherwise returns one result per
    row, in order: "created", or "exists" when its (source, external id) was already stored.
    """
    customer_ids = _customer_ids_resolve(actor=actor, rows=rows)
    stored = _stored_by_key(rows)
    errors = _rows_check(rows, customer_ids=customer_ids, stored=stored)
    if errors:
        raise TransactionRowsInvalid(errors)

    resolved_ids = cast(list[int], customer_ids)  # none is missing once the rows are valid
    now = timezone.now()
    new_keys = {_key(row) for row in rows} - stored.keys()
    first_insert, second_insert = [], []
    for index, row in enumerate(rows):
        if _key(row) not in new_keys:
            continue
        new = Transaction(
            customer_id=resolved_ids[index],
            created_at=now,
            **{field: row[field] for field in ROW_FIELDS},
        )
        original_key = _original_key(row)
        if original_key in new_keys:
            # Its original is inserted by this batch: its id is known only after the first insert.
            second_insert.append((new, original_key))
            continue
        if original_key is not None:
            new.refund_of_id = stored[original_key].id
        first_insert.append(new)
    Transaction.objects.bulk_create(first_insert, ignore_conflicts=True)
    if second_insert:
        ids = _ids_by_key(new_keys)
        for new, original_key in second_insert:
            new.refund_of_id = ids[original_key][0]
        Transaction.objects.bulk_create(
            [new for new, _original in second_insert], ignore_conflicts=True
        )
    ids = _ids_by_key(new_keys)

    results = []
    for index, row in enumerate(rows):
        key = _key(row)
        if key in stored:
            status, pk = EXISTS, stored[key].id
        elif key in ids:
            pk, created_at = ids[key]
            # A concurrent request may have stored the same key after we looked (the insert then
            # skipped ours): the row is ours only if it carries this batch's timestamp.
            status = CREATED if created_at == now else EXISTS
        else:
            # SQLite's INSERT OR IGNORE also skips rows that fail a CHECK: never report those.
            raise IntegrityError(f"Transaction {key} was not stored.")
        results.append(TransactionResult(index, row["external_id"], status, pk))
    created_ids = [result.id for result in results if result.status == CREATED]
    if created_ids:
        # Inside this transaction: points earned by the new rows commit with them or not at all.
        transactions_stored.send(sender=Transaction, transaction_ids=created_ids)
    return results


def _customer_ids_resolve(*, actor: User, rows: list[dict[str, Any]]) -> list[int | None]:
    """Each row's customer id, or None where it names no customer the actor may see.

    One query: the visible customers named by our id or by an external id, with their source
    records (a customer named by our id brings all of its own, which are harmless extras).
    """
    ids = {row["customer"] for row in rows if row.get("customer") is not None}
    external_ids = {row["customer_external_id"] for row in rows if row.get("customer_external_id")}
    found = (
        customer_list(user=actor)
        .filter(Q(pk__in=ids) | Q(source_records__external_id__in=external_ids))
        .values_list("pk", "source_records__source", "source_records__external_id")
    )
    visible_ids: set[int] = set()
    by_source: dict[tuple[Any, Any], int] = {}
    for pk, source, external_id in found:
        visible_ids.add(pk)
        by_source[(source, external_id)] = pk
    return [
        (row["customer"] if row["customer"] in visible_ids else None)
        if row.get("customer") is not None
        else by_source.get((row.get("customer_source"), row.get("customer_external_id")))
        for row in rows
    ]


def _stored_by_key(rows: list[dict[str, Any]]) -> dict[Key, _Stored]:
    """The stored transactions a batch names, as its rows or as refund originals: one query."""
    keys = {_key(row) for row in rows} | {
        key for row in rows if (key := _original_key(row)) is not None
    }
    found = Transaction.objects.filter(
        source__in={key[0] for key in keys}, external_id__in={key[1] for key in keys}
    ).values_list("source", "external_id", "pk", "customer_id", "kind", "amount", "currency")
    return {
        (source, external_id): _Stored(
            id=pk, customer_id=customer_id, kind=kind, amount=amount, currency=currency
        )
        for source, external_id, pk, customer_id, kind, amount, currency in found
        if (source, external_id) in keys
    }


def _ids_by_key(keys: set[Key]) -> dict[Key, tuple[int, Any]]:
    found = Transaction.objects.filter(
        source__in={key[0] for key in keys}, external_id__in={key[1] for key in keys}
    ).values_list("source", "external_id", "pk", "created_at")
    return {
        (source, external_id): (pk, created_at) for source, external_id, pk, created_at in found
    }


def _rows_check(
    rows: list[dict[str, Any]], *, customer_ids: list[int | None], stored: dict[Key, _Stored]
) -> dict[int, RowErrors]:
    errors: dict[int, RowErrors] = {}
    earlier: dict[Key, int] = {}  # the first row of each key, among the rows checked so far
    for index, row in enumerate(rows):
        row_errors: RowErrors = {}
        if customer_ids[index] is None:
            field = "customer" if row.get("customer") is not None else "customer_external_id"
            row_errors[field] = [_("No customer you may see has this id.")]
        original_key = _original_key(row)
        if row["kind"] == Transaction.Kind.REFUND:
            original: _Original | None = stored.get(original_key) if original_key else None
            if original is None and original_key in earlier:
                before = earlier[original_key]
                original = _Original(
                    customer_id=customer_ids[before],
                    kind=rows[before]["kind"],
                    amount=rows[before]["amount"],
                    currency=rows[before]["currency"],
                )
            row_errors.update(_refund_errors(row, customer_ids[index], original))
        elif original_key is not None:
            message = _("Only a refund names an original transaction.")
            row_errors["refund_of_external_id"] = [message]
        key = _key(row)
        if key in earlier:
            message = _("Row %(index)s of this batch has the same source and external id.")
            row_errors.setdefault("external_id", []).append(message % {"index": earlier[key]})
        else:
            earlier[key] = index
        if row_errors:
            errors[index] = row_errors
    return errors


def _refund_errors(
    row: dict[str, Any], customer_id: int | None, original: _Original | None
) -> RowErrors:
    if not row.get("refund_of_external_id"):
        return {"refund_of_external_id": [_("A refund names the transaction it refunds.")]}
    if original is None:
        message = _(
            "No transaction %(external_id)s from this source is stored or earlier in this batch."
        )
        return {"refund_of_external_id": [message % {"external_id": row["refund_of_external_id"]}]}
    problem = refund_problem(
        customer_id=customer_id,
        amount=row["amount"],
        currency=row["currency"],
        original_customer_id=original.customer_id,
        original_kind=original.kind,
        original_amount=original.amount,
        original_currency=original.currency,
    )
    if problem is None:
        return {}
    field, reason = problem
    return {"refund_of_external_id" if field == "original" else field: [reason]}


def refund_problem(
    *,
    customer_id: int | None,
    amount: Decimal,
    currency: str,
    original_customer_id: int | None,
    original_kind: str,
    original_amount: Decimal,
    original_currency: str,
) -> tuple[str, str | Promise] | None:
    """What is wrong with a refund against its original, as ("original" | "currency" |
    "amount", reason), or None. The API's batches and the file imports share these rules."""
    if original_kind == Transaction.Kind.REFUND:
        return "original", _("A refund cannot refund another refund.")
    if customer_id is not None and original_customer_id != customer_id:
        return "original", _("The original belongs to another customer.")
    if currency != original_currency:
        message = _("A refund is in its original's currency, %(currency)s.")
        return "currency", message % {"currency": original_currency}
    if amount > original_amount:
        message = _("A refund cannot exceed its original's amount, %(amount)s.")
        return "amount", message % {"amount": original_amount}
    return None
