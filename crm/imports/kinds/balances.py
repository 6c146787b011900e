"""Daily balances: one per customer and day; a changed amount or currency updates it."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from crm.imports.chunks import KindImport, ParsedRow, Plan
from crm.imports.cleaning import default_currency
from crm.imports.writing import upsert
from crm.models import BalanceSnapshot

FIELDS = ("customer_id", "date", "amount", "currency")


class BalanceImport(KindImport):
    key_fields = ("customer_external_id", "date")
    duplicate_reason = _("Row %(row)s has the same customer and date.")

    def plan(self, rows: list[ParsedRow]) -> Plan:
        plan = Plan()
        context = self.context
        customers = context.customer_ids({row.values["customer_external_id"] for row in rows})
        stored = self._stored(set(customers.values()), {row.values["date"] for row in rows})
        # Two ids of one customer (after a merge) may name the same day: the first row wins.
        planned: dict[tuple[int, Any], int] = {}
        for row in rows:
            values = row.values
            customer_id = customers.get(values["customer_external_id"])
            if customer_id is None:
                reason = context.unknown_customer_reason()
                plan.refuse(context.refusal(row, "customer_external_id", reason))
                continue
            key = (customer_id, values["date"])
            if key in planned:
                duplicate = self.duplicate_reason % {"row": planned[key]}
                plan.refuse(context.refusal(row, "customer_external_id", duplicate))
                continue
            planned[key] = row.number
            new = (customer_id, values["date"], values["amount"], _currency(values))
            existing = stored.get(key)
            if existing is None:
                plan.creates.append(new)
            elif existing != new[2:]:
                plan.updates.append(new)
            else:
                plan.unchanged += 1
        return plan

    def _stored(self, customer_ids: set[int], dates: set) -> dict[tuple[int, Any], tuple]:
        found = BalanceSnapshot.objects.filter(
            customer_id__in=customer_ids, date__in=dates
        ).values_list("customer_id", "date", "amount", "currency")
        return {
            (customer_id, day): (amount, currency) for customer_id, day, amount, currency in found
        }

    def write(self, plan: Plan) -> None:
        upsert(
            BalanceSnapshot,
            fields=FIELDS,
            rows=plan.creates + plan.updates,
            unique=("customer_id", "date"),
            update=("amount", "currency"),
        )


def _currency(values: dict[str, Any]) -> str:
    return values.get("currency") or default_currency()
