"""Experience officers: customers invited (from a saved segment) to test products. They get
product-test forms (a segment saved with the customer filter `experience_officer`), and their
answers to them are their contributions, listed on their page.

Inviting is one INSERT ... SELECT over the segment's customers; those with an active term are
skipped (and the partial unique index makes a concurrent second run insert nothing more).
"""

import logging

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from crm.models import Customer, Segment
from workflows.models import ExperienceOfficer

logger = logging.getLogger(__name__)


def segment_members(segment: Segment) -> QuerySet[Customer]:
    """The segment's customers over the whole company, as campaigns read them."""
    from crm.filters import CustomerFilter

    customer_filter = CustomerFilter(data=segment.definition or {}, queryset=Customer.objects.all())
    # The segment was validated when saved; a filter that no longer validates selects nobody.
    if not customer_filter.is_valid():
        logger.warning("officers: segment %s is invalid", segment.pk)
        return Customer.objects.none()
    return customer_filter.qs


@transaction.atomic
def officers_invite(*, segment: Segment, invited_by) -> int:
    """Make every customer of `segment` an active experience officer; the number of new terms.
    Customers with an active term already are skipped, so a second run adds nothing."""
    ids_sql, ids_params = segment_members(segment).order_by().values("pk").query.sql_with_params()
    table = ExperienceOfficer._meta.db_table
    sql = f"""
        INSERT INTO {table} (customer_id, segment_id, invited_at, invited_by_id, is_active)
        SELECT c.id, %s, %s, %s, %s
        FROM {Customer._meta.db_table} AS c
        WHERE c.id IN ({ids_sql})
          AND NOT EXISTS (
            SELECT 1 FROM {table} AS e WHERE e.customer_id = c.id AND e.is_active = %s
          )
        ON CONFLICT DO NOTHING
    """  # noqa: S608 (identifiers from the models, values as parameters)
    params = [
        segment.pk,
        connection.ops.adapt_datetimefield_value(timezone.now()),
        getattr(invited_by, "pk", None),
        True,
        *ids_params,
        True,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def officer_terms_end(*, officer_ids: list[int]) -> int:
    """End the given active terms (a guarded UPDATE); the number ended."""
    return ExperienceOfficer.objects.filter(pk__in=officer_ids, is_active=True).update(
        is_active=False
    )


def active_officer_customer_ids() -> QuerySet:
    return ExperienceOfficer.objects.filter(is_active=True).order_by().values("customer_id")


def _experience_officer(queryset: QuerySet, name: str, value: bool) -> QuerySet:
    officers = active_officer_customer_ids()
    return queryset.filter(pk__in=officers) if value else queryset.exclude(pk__in=officers)


def register_customer_filters() -> None:
    """`{"experience_officer": true}` in a segment: the officers, to send product-test forms."""
    from crm.filters import register_customer_filter

    register_customer_filter(
        "experience_officer",
        filters.BooleanFilter(
            method=_experience_officer,
            label=_("Experience officer (an active term): they get product-test forms."),
        ),
    )
