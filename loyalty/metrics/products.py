from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.models import ProductHolding
from loyalty.metrics.base import Metric, register


@register
class IntermediateProducts(Metric):
    """Wealth management, insurance and fund holdings open at the end of the day `as_of`.

    A holding closed on `as_of` itself no longer counts; one opened that day does.
    """

    code = "intermediate_products"
    label = _("Intermediate products held")
    counts = True
    takes_window = False

    def values(
        self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]
    ) -> QuerySet:
        self.clean_window(window_months)
        return (
            ProductHolding.objects.filter(
                Q(closed_on__isnull=True) | Q(closed_on__gt=as_of),
                product_type__in=ProductHolding.INTERMEDIATE_TYPES,
                opened_on__lte=as_of,
            )
            .order_by()
            .values("customer_id")
            .annotate(value=Count("id"))
        )
