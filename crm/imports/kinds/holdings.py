"""Product holdings, keyed by (source, external id). A row is the holding's whole state: a
blank end date means the holding is open, a blank amount is zero."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from crm.imports.chunks import KindImport, ParsedRow, Plan, rows_by_external_id
from crm.imports.cleaning import default_currency
from crm.imports.writing import upsert
from crm.models import ProductHolding

STATE = (
    "customer_id",
    "product_type",
    "product_name",
    "amount",
    "currency",
    "opened_on",
    "closed_on",
)
FIELDS = (*STATE, "source", "external_id")


class HoldingImport(KindImport):
    def complete(self, row: ParsedRow) -> list[tuple[str, Any]]:
        values = row.values
        if values.get("closed_on") and values["closed_on"] < values["opened_on"]:
            return [("closed_on", _("The holding ends before it starts."))]
        return []

    def plan(self, rows: list[ParsedRow]) -> Plan:
        plan = Plan()
        context = self.context
        customers = context.customer_ids({row.values["customer_external_id"] for row in rows})
        stored = self._stored({row.values["external_id"] for row in rows})
        for row in rows:
            values = row.values
            customer_id = customers.get(values["customer_external_id"])
            if customer_id is None:
                reason = context.unknown_customer_reason()
                plan.refuse(context.refusal(row, "customer_external_id", reason))
                continue
            state = _state(values, customer_id)
            existing = stored.get(values["external_id"])
            new = (*state, context.source, values["external_id"])
            if existing is None:
                plan.creates.append(new)
            elif existing != state:
                plan.updates.append(new)
            else:
                plan.unchanged += 1
        return plan

    def _stored(self, external_ids: set[str]) -> dict[str, tuple]:
        fields = ("external_id", *STATE)
        found = rows_by_external_id(ProductHolding, fields, self.context.source, external_ids)
        return {external_id: tuple(state) for external_id, *state in found}

    def write(self, plan: Plan) -> None:
        upsert(
            ProductHolding,
            fields=FIELDS,
            rows=plan.creates + plan.updates,
            unique=("source", "external_id"),
            update=STATE,
        )


def _state(values: dict[str, Any], customer_id: int) -> tuple:
    return (
        customer_id,
        values["product_type"],
        values["product_name"],
        values.get("amount", Decimal("0.00")),
        values.get("currency") or default_currency(),
        values["opened_on"],
        values.get("closed_on"),
    )
