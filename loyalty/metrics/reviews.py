from datetime import date
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _

from crm.models import Interaction
from loyalty.metrics.base import Metric, register


@register
class QualityReviews(Metric):
    """The reviews a customer wrote in the window (interactions of kind "review")."""

    code = "quality_reviews"
    label = _("Number of quality reviews")
    counts = True

    def values(
        self, *, as_of: date, window_months: int | None, parameters: dict[str, Any]
    ) -> QuerySet:
        window = self.window(as_of=as_of, window_months=window_months)
        return (
            Interaction.objects.filter(
                kind=Interaction.Kind.REVIEW,
                occurred_at__gte=window.starts_at,
                occurred_at__lt=window.ends_before,
            )
            .order_by()
            .values("customer_id")
            .annotate(value=Count("id"))
        )
