from datetime import date
from typing import Any

from django.db.models import F, IntegerField, Max, Q, QuerySet, Value
from django.db.models.functions import Cast, Coalesce, ExtractDay, ExtractMonth, ExtractYear
from django.db.models.lookups import GreaterThan
from django.utils.translation import gettext_lazy as _

from crm.models import CreditEvent, Customer
from loyalty.metrics.base import Metric, end_of_day, register


@register
class MonthsWithoutCreditEvent(Metric):
    """Whole months from the customer's latest serious credit event to `as_of`.

    A customer with no serious event counts from the day they became a customer, so a long
    clean record reads as a large number. Every customer existing on `as_of` (merged ones
    aside) gets a row.
    Months are calendar months in settings.TIME_ZONE: from 15 January, 14 March is 1 month and
    15 March is 2.
    """

    code = "months_without_credit_event"
    label = _("Months without a serious credit event")
    counts = True
    takes_window = False

    def values(
        self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]
    ) -> QuerySet:
        self.clean_window(window_months)
        before = end_of_day(as_of)
        since = Coalesce(
            Max(
                "credit_events__occurred_at",
                filter=Q(
                    credit_events__severity=CreditEvent.Severity.SERIOUS,
                    credit_events__occurred_at__lt=before,
                ),
            ),
            F("created_at"),
        )
        whole_months = (
            Value(as_of.year * 12 + as_of.month)
            - ExtractYear(since) * 12
            - ExtractMonth(since)
            # The current month is not whole yet until its day of the month comes round.
            - Cast(GreaterThan(ExtractDay(since), as_of.day), IntegerField())
        )
        return (
            # A merged customer's history lives on with the customer it was merged into.
            Customer.objects.filter(created_at__lt=before)
            .exclude(status=Customer.Status.MERGED)
            .order_by()
            .values(customer_id=F("pk"))
            .annotate(value=whole_months)
        )
