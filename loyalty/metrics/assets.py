from datetime import date
from typing import Any

from django.db import connection
from django.db.models import DecimalField, ExpressionWrapper, FloatField, QuerySet, Sum, Value
from django.db.models.functions import Cast, Round
from django.utils.translation import gettext_lazy as _

from crm.models import BalanceSnapshot
from loyalty.metrics.base import Metric, register


@register
class AverageDailyAssets(Metric):
    """The sum of the daily balances in the window divided by the days in the window.

    A day without a snapshot counts as 0: a customer who held 90,000 for the last 30 days of a
    90-day window averages 30,000, the same as one who held 30,000 all along. Averaging over the
    days present instead would let a newcomer with one big day qualify at once.
    """

    code = "average_daily_assets"
    label = _("Average daily assets")

    def values(
        self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]
    ) -> QuerySet:
        window = self.window(as_of=as_of, window_months=window_months)
        money = DecimalField(max_digits=16, decimal_places=2)
        total: Sum | Cast = Sum("amount")
        if connection.vendor == "sqlite":
            # SQLite keeps whole amounts as integers and would divide them as integers
            # (100 / 90 = 1); it has no exact decimals to lose, so divide as REAL there.
            total = Cast(total, FloatField())
        return (
            BalanceSnapshot.objects.filter(date__gte=window.first_day, date__lte=window.last_day)
            .order_by()
            .values("customer_id")
            .annotate(
                value=Round(
                    ExpressionWrapper(
                        total / Value(window.days),
                        output_field=money,
                    ),
                    2,
                    output_field=money,
                )
            )
        )
