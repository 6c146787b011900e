"""Transactions: immutable, keyed by (source, external id).

A row whose transaction is stored already is "unchanged" even when its data differs (the
report says how many differ in customer, kind, amount or currency). A refund names its original
by id: a stored transaction of the source or an earlier row of the file, of the same customer
and currency, for no less.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from crm.imports.chunks import KindImport, ParsedRow, Plan, rows_by_external_id
from crm.imports.cleaning import default_currency
from crm.imports.writing import upsert
from crm.models import Transaction
from crm.services.transactions import refund_problem
from crm.signals import transactions_stored

FIELDS = (
    "customer_id",
    "kind",
    "amount",
    "currency",
    "category",
    "channel",
    "payment_method",
    "merchant",
    "occurred_at",
    "source",
    "external_id",
    "refund_of_id",
    "created_at",
)
_REFUND = Transaction.Kind.REFUND


@dataclass(frozen=True)
class _Original:
    customer_id: int
    kind: str
    amount: Decimal
    currency: str
    id: int | None  # None: a row of this chunk, its id known once it is written


class TransactionImport(KindImport):
    def __init__(self, context) -> None:
        super().__init__(context)
        # A dry run writes nothing, so later chunks find earlier rows' originals here.
        self._earlier: dict[str, _Original] = {}

    def complete(self, row: ParsedRow) -> list[tuple[str, Any]]:
        values = row.values
        if values.get("refund_of") and "kind" not in values:
            values["kind"] = _REFUND
        values.setdefault("kind", Transaction.Kind.PURCHASE)
        values.setdefault("currency", default_currency())
        if values["kind"] == _REFUND and not values.get("refund_of"):
            return [("refund_of", _("A refund names the transaction it refunds."))]
        if values["kind"] != _REFUND and values.get("refund_of"):
            return [("refund_of", _("Only a refund names an original transaction."))]
        return []

    def plan(self, rows: list[ParsedRow]) -> Plan:
        plan = Plan()
        context = self.context
        customers = context.customer_ids({row.values["customer_external_id"] for row in rows})
        names = {row.values["external_id"] for row in rows}
        names |= {row.values["refund_of"] for row in rows if row.values.get("refund_of")}
        stored = self._stored(names)
        in_chunk: dict[str, _Original] = {}
        for row in rows:
            values = row.values
            existing = stored.get(values["external_id"])
            if existing is not None:
                plan.unchanged += 1
                if _differs(existing, values, customers.get(values["customer_external_id"])):
                    plan.differing.append(row.number)
                continue
            customer_id = customers.get(values["customer_external_id"])
            if customer_id is None:
                reason = context.unknown_customer_reason()
                plan.refuse(context.refusal(row, "customer_external_id", reason))
                continue
            original = None
            if values["kind"] == _REFUND:
                original_id = values["refund_of"]
                original = stored.get(original_id) or in_chunk.get(original_id)
                original = original or self._earlier.get(original_id)
                field_name, reason = _refund_error(values, customer_id, original)
                if reason:
                    plan.refuse(context.refusal(row, field_name, reason))
                    continue
            in_chunk[values["external_id"]] = _Original(
                customer_id, values["kind"], values["amount"], values["currency"], None
            )
            plan.creates.append((row, customer_id, original))
        if context.dry_run:
            self._earlier.update(in_chunk)
        return plan

    def _stored(self, external_ids: set[str]) -> dict[str, _Original]:
        fields = ("external_id", "customer_id", "kind", "amount", "currency", "id")
        found = rows_by_external_id(Transaction, fields, self.context.source, external_ids)
        return {
            external_id: _Original(customer_id, kind, amount, currency, pk)
            for external_id, customer_id, kind, amount, currency, pk in found
        }

    def write(self, plan: Plan) -> None:
        first, second = [], []
        for row, customer_id, original in plan.creates:
            if original is not None and original.id is None:
                second.append((row, customer_id))  # its original is written just before it
            else:
                first.append(self._tuple(row, customer_id, original.id if original else None))
        upsert(Transaction, fields=FIELDS, rows=first, unique=("source", "external_id"))
        if second:
            originals = dict(
                Transaction.objects.filter(
                    source=self.context.source,
                    external_id__in={row.values["refund_of"] for row, _customer in second},
                ).values_list("external_id", "id")
            )
            rows = [
                self._tuple(row, customer_id, originals[row.values["refund_of"]])
                for row, customer_id in second
            ]
            upsert(Transaction, fields=FIELDS, rows=rows, unique=("source", "external_id"))
        self._announce({row.values["external_id"] for row, _customer, _original in plan.creates})

    def _announce(self, external_ids: set[str]) -> None:
        """Tell other apps (points) which rows this chunk inserted, in the chunk's transaction.

        One query: a new row carries this import's `started_at` as its `created_at`, so a row of
        the chunk's keys that another import or an API batch stored first is not announced.
        """
        if not external_ids:
            return
        created_ids = list(
            Transaction.objects.filter(
                source=self.context.source,
                external_id__in=external_ids,
                created_at=self.context.started_at,
            ).values_list("id", flat=True)
        )
        if created_ids:
            transactions_stored.send(sender=Transaction, transaction_ids=created_ids)

    def _tuple(self, row: ParsedRow, customer_id: int, refund_of_id: int | None) -> tuple:
        values = row.values
        return (
            customer_id,
            values["kind"],
            values["amount"],
            values["currency"],
            values.get("category") or Transaction.Category.OTHER,
            values.get("channel") or Transaction.Channel.ONLINE,
            values.get("payment_method") or Transaction.PaymentMethod.CARD,
            values.get("merchant", ""),
            values["occurred_at"],
            self.context.source,
            values["external_id"],
            refund_of_id,
            self.context.started_at,
        )


def _differs(stored: _Original, values: dict[str, Any], customer_id: int | None) -> bool:
    return (
        stored.customer_id != customer_id
        or stored.kind != values["kind"]
        or stored.amount != values["amount"]
        or stored.currency != values["currency"]
    )


def _refund_error(
    values: dict[str, Any], customer_id: int, original: _Original | None
) -> tuple[str, Any]:
    """The same rules as the API's batches (crm.services.transactions.refund_problem)."""
    if original is None:
        message = _(
            "No transaction %(external_id)s from this source is stored or earlier in the file."
        )
        return "refund_of", message % {"external_id": values["refund_of"]}
    problem = refund_problem(
        customer_id=customer_id,
        amount=values["amount"],
        currency=values["currency"],
        original_customer_id=original.customer_id,
        original_kind=original.kind,
        original_amount=original.amount,
        original_currency=original.currency,
    )
    if problem is None:
        return "", None
    field, reason = problem
    return ("refund_of" if field == "original" else field), reason
