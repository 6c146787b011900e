from datetime import date
from typing import Any

from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from crm.models import Transaction
from loyalty.metrics.base import GroupedMetric, register

# The module, not the package: loyalty.models imports the metrics for the Condition's choices.
from loyalty.models.stability import StabilityFlag


def _in_window(window_start, window_end) -> Q:
    return Q(occurred_at__gte=window_start, occurred_at__lt=window_end)


def _counted_transactions() -> QuerySet:
    """Transactions that count: no unusual spend waiting for review or rejected, nor a refund
    of one (else its refund would take back spend that never counted).

    Two NOT EXISTS, not one with an OR: PostgreSQL turns each into a hash anti-join over the
    few flags instead of a subplan run for every transaction.
    """
    not_counted = StabilityFlag.objects.exclude(status=StabilityFlag.Status.ACCEPTED)
    return Transaction.objects.filter(
        ~Exists(not_counted.filter(transaction_id=OuterRef("pk"))),
        ~Exists(not_counted.filter(transaction_id=OuterRef("refund_of_id"))),
    )


class _TransactionMetric(GroupedMetric):
    source_name = "transactions"

    def source(self) -> QuerySet:
        return _counted_transactions()


@register
class Spend(_TransactionMetric):
    """Purchases minus refunds in the window, optionally of one category or payment method.

    A refund counts when it happens (inside the window), whatever the date of its purchase; the
    category and payment method filters look at the refunded purchase, so a card purchase's
    refund subtracts from card spend however the refund itself was recorded.
    """

    code = "spend"
    label = _("Spend")
    parameter_choices = {
        "category": Transaction.Category.values,
        "payment_method": Transaction.PaymentMethod.values,
    }

    def rows(self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]) -> Q:
        window = self.window(as_of=as_of, window_months=window_months)
        purchases = Q(kind=Transaction.Kind.PURCHASE)
        refunds = Q(kind=Transaction.Kind.REFUND)
        for name, value in parameters.items():
            purchases &= Q(**{name: value})
            refunds &= Q(**{f"refund_of__{name}": value})
        return _in_window(window.starts_at, window.ends_before) & (purchases | refunds)

    def aggregate(self, rows: Q) -> Coalesce:
        signed = Case(When(kind=Transaction.Kind.REFUND, then=-F("amount")), default=F("amount"))
        return Coalesce(
            Sum(signed, filter=rows), 0, output_field=Transaction._meta.get_field("amount")
        )


@register
class Orders(_TransactionMetric):
    """The number of purchases in the window; a refund does not take an order back."""

    code = "orders"
    label = _("Number of orders")
    counts = True

    def rows(self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]) -> Q:
        window = self.window(as_of=as_of, window_months=window_months)
        return _in_window(window.starts_at, window.ends_before) & Q(kind=Transaction.Kind.PURCHASE)

    def aggregate(self, rows: Q) -> Count:
        return Count("id", filter=rows)


@register
class TransactionsOfKind(_TransactionMetric):
    """The number of transactions of one kind in the window, e.g. card repayments."""

    code = "transactions_of_kind"
    label = _("Number of transactions of a kind")
    counts = True
    parameter_choices = {"kind": Transaction.Kind.values}
    required_parameters = frozenset({"kind"})

    def rows(self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]) -> Q:
        window = self.window(as_of=as_of, window_months=window_months)
        return _in_window(window.starts_at, window.ends_before) & Q(kind=parameters["kind"])

    def aggregate(self, rows: Q) -> Count:
        return Count("id", filter=rows)
