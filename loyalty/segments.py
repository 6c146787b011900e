"""loyalty's filters over customers (crm.filters), registered from LoyaltyConfig.ready().

"Customers with points expiring within 30 days" is a ready segment for a reminder: a filter
of crm's customer filter, so it serves the customer API list and saved segments alike
(`{"points_expiring_soon": true}`, or `{"points_expiring_within_days": 7}`) and combines
with the other filters (consent, team, tag...). A live filter rather than a rule tag
refreshed nightly: it is one index range scan, so it is never a day stale, and tags' rules
are crm's own choices, which loyalty cannot extend without crm knowing points.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from crm.filters import DaysFilter, register_customer_filter
from loyalty.models import PointsLot


def points_expiring_customer_ids(*, until: date) -> QuerySet:
    """The customers (ids) with points that expire by `until`, in any program: the open lots'
    expiry index (`points_lot_open_by_expiry`, partial on remaining > 0) read as a range, then
    their accounts. Lots whose day has passed but that tonight's expiry has not reached yet
    are in: those points are about to go too."""
    return (
        PointsLot.objects.filter(remaining__gt=0, expires_on__lte=until)
        .order_by()
        .values("account__customer_id")
    )


def _within_days(queryset: QuerySet, name: str, value: int) -> QuerySet:
    until = timezone.localdate() + timedelta(days=value)
    return queryset.filter(pk__in=points_expiring_customer_ids(until=until))


def _soon(queryset: QuerySet, name: str, value: bool) -> QuerySet:
    until = timezone.localdate() + timedelta(days=settings.LOYALTY_EXPIRING_SOON_DAYS)
    expiring = points_expiring_customer_ids(until=until)
    return queryset.filter(pk__in=expiring) if value else queryset.exclude(pk__in=expiring)


def register_customer_filters() -> None:
    register_customer_filter(
        "points_expiring_within_days",
        DaysFilter(
            method=_within_days,
            label=_("With loyalty points that expire within the next N days, in any program."),
        ),
    )
    register_customer_filter(
        "points_expiring_soon",
        filters.BooleanFilter(
            method=_soon,
            label=_(
                "With loyalty points that expire soon (within LOYALTY_EXPIRING_SOON_DAYS "
                "days, 30 unless set), in any program: the reminder segment."
            ),
        ),
    )


EXPIRING_SOON_SEGMENT = "Points expiring soon"


def expiring_soon_segment_ensure() -> None:
    """The ready segment for the reminder, created on migrate when missing (a supervisor may
    rename its description or combine it; its name is what finds it)."""
    from crm.models import Segment

    Segment.objects.get_or_create(
        name=EXPIRING_SOON_SEGMENT,
        defaults={
            "description": "Customers with loyalty points that expire within "
            "LOYALTY_EXPIRING_SOON_DAYS days (30 unless set): for a reminder message.",
            "definition": {"points_expiring_soon": True},
        },
    )
