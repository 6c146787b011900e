"""Data quality figures: gaps in contact data, stale records, unreviewed duplicates, refused
import rows. Read-only, scoped to the customers the user may see, a constant number of
aggregate queries whatever the number of rows.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from crm.filters import no_activity_since_q
from crm.models import Customer, DuplicatePair, ImportJob, TeamMembership
from crm.selectors import (
    User,
    customer_list,
    customer_visibility_q,
    user_can_see_all_customers,
    user_supervised_team_ids,
)

MAX_STALE_DAYS = 3650


def stale_days_default() -> int:
    return settings.CRM_STALE_DAYS


def user_can_view_data_quality(user: User) -> bool:
    """Supervisors of a team (for their teams' customers) and staff who see every customer.

    The figures are about a customer base, not one RM's own list, and there is no permission
    of its own for them; a team's supervisor role is what the page follows.
    """
    if not (user.is_active and user.is_staff):
        return False
    if user_can_see_all_customers(user):
        return True
    return bool(user.has_perm("crm.view_customer") and user_supervised_team_ids(user))


@dataclass(frozen=True)
class ContactGaps:
    customers: int
    missing_phone: int
    missing_email: int
    missing_both: int


@dataclass(frozen=True)
class DataQuality:
    contact: ContactGaps
    stale_days: int
    stale: int
    open_duplicates: int
    imports_with_refused_rows: int
    recent_refused_imports: list[ImportJob]


def _quality_customers(*, user: User) -> QuerySet[Customer]:
    # A merged customer is kept as a record of the merge; it is not a customer any more.
    return customer_list(user=user).exclude(status=Customer.Status.MERGED).order_by()


def contact_gaps(*, user: User) -> ContactGaps:
    """One aggregate query (COUNT ... FILTER on PostgreSQL) over the visible customers."""
    no_phone, no_email = Q(phone=""), Q(email="")
    figures = _quality_customers(user=user).aggregate(
        customers=Count("pk"),
        missing_phone=Count("pk", filter=no_phone),
        missing_email=Count("pk", filter=no_email),
        missing_both=Count("pk", filter=no_phone & no_email),
    )
    return ContactGaps(**figures)


def stale_customer_count(*, user: User, days: int) -> int:
    """Customers older than `days` with neither a transaction nor an interaction since.

    Two NOT EXISTS on the (customer, occurred_at) indexes; a customer created within the
    window is new, not stale.
    """
    since = timezone.now() - timedelta(days=days)
    return (
        _quality_customers(user=user)
        .filter(created_at__lt=since)
        .filter(no_activity_since_q(since))
        .count()
    )


def open_duplicate_count(*, user: User) -> int:
    """Pairs to review in which the user may see at least one of the two customers."""
    visible = customer_visibility_q(user, prefix="customer__") | customer_visibility_q(
        user, prefix="other__"
    )
    return DuplicatePair.objects.filter(visible, status=DuplicatePair.Status.OPEN).count()


def _imports_visible(*, user: User) -> QuerySet[ImportJob]:
    """Every import for staff who see every customer; else the user's own and those of the
    members of the teams they supervise."""
    jobs = ImportJob.objects.all()
    if user_can_see_all_customers(user):
        return jobs
    members = TeamMembership.objects.filter(team_id__in=user_supervised_team_ids(user)).values(
        "user_id"
    )
    return jobs.filter(Q(created_by_id=user.pk) | Q(created_by_id__in=members))


def data_quality_get(*, user: User, stale_days: int, recent_imports: int = 10) -> DataQuality:
    """Every figure of the data quality page: five queries, whatever the number of rows."""
    refused = _imports_visible(user=user).filter(rows_refused__gt=0)
    return DataQuality(
        contact=contact_gaps(user=user),
        stale_days=stale_days,
        stale=stale_customer_count(user=user, days=stale_days),
        open_duplicates=open_duplicate_count(user=user),
        imports_with_refused_rows=refused.count(),
        recent_refused_imports=list(
            refused.select_related("created_by").order_by("-created_at", "-id")[:recent_imports]
        ),
    )
