"""Reads of tier metrics (thin over the metric registry, loyalty/metrics), of grace periods
and of who is in which tier. A membership's explanation is in loyalty/explain.py."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db.models import Count, FilteredRelation, Q, QuerySet
from django.utils import timezone

from config.db import read_replica
from crm.models import Customer
from crm.selectors import User, customer_visibility_q, user_supervised_team_ids
from loyalty.metrics import get_metric
from loyalty.models import CustomerValue, GracePeriod, PointsAccount, Program, Tier


def metric_values(
    *,
    metric: str,
    as_of: date,
    window_months: int | None = None,
    parameters: dict[str, Any] | None = None,
) -> QuerySet:
    """Rows of (customer_id, value) of one metric for all customers, in one query.

    A customer without a row has the value 0 (see loyalty/metrics/base.py).
    """
    definition = get_metric(metric)
    cleaned = definition.clean_parameters(parameters or {})
    return definition.values(as_of=as_of, window_months=window_months, parameters=cleaned)


def metric_values_by_customer(
    *,
    metric: str,
    as_of: date,
    window_months: int | None = None,
    parameters: dict[str, Any] | None = None,
) -> dict[int, Decimal]:
    """The same rows as a {customer_id: value} dict, values as Decimal."""
    rows = metric_values(
        metric=metric, as_of=as_of, window_months=window_months, parameters=parameters
    ).values_list("customer_id", "value")
    return {customer_id: Decimal(value) for customer_id, value in rows}


def grace_period_open_exists(*, customer_id: int, program_id: int) -> bool:
    """A pending request, or an approved period that has not run out yet."""
    today = timezone.localdate()
    return (
        GracePeriod.objects.filter(customer_id=customer_id, program_id=program_id)
        .filter(
            Q(status=GracePeriod.Status.PENDING)
            | Q(status=GracePeriod.Status.APPROVED, ends_on__gt=today)
        )
        .exists()
    )


def user_may_decide_grace_period(*, user: AbstractUser, grace_period: GracePeriod) -> bool:
    """A supervisor of the customer's team, or a superuser; never the requester."""
    if not user.is_active or grace_period.requested_by_id == user.pk:
        return False
    if user.is_superuser:
        return True
    team_id = grace_period.customer.team_id
    return team_id is not None and team_id in user_supervised_team_ids(user)


@dataclass(frozen=True)
class TierCount:
    rank: int
    name: str
    members: int


@dataclass(frozen=True)
class TierDistribution:
    program_code: str
    program_name: str
    tiers: tuple[TierCount, ...]  # lowest rank first, empty tiers included
    not_evaluated: int  # customers without a membership of the program yet
    customers: int


@read_replica()
def tier_distribution_get(*, program: Program, user: User) -> TierDistribution:
    """How many of the customers the user may see are in each tier, and how many have no
    membership yet (merged customers left out, as the evaluation does).

    One GROUP BY over customers LEFT JOIN their membership of the program, plus the tiers (and
    the user's teams, cached): the number of queries does not depend on the customers.
    """
    tiers = list(Tier.objects.filter(program=program).order_by("rank"))
    rows = (
        Customer.objects.filter(customer_visibility_q(user))
        .exclude(status=Customer.Status.MERGED)
        .annotate(
            membership_of=FilteredRelation("memberships", condition=Q(memberships__program=program))
        )
        .order_by()
        .values("membership_of__tier_id")
        .annotate(count=Count("pk"))
        .values_list("membership_of__tier_id", "count")
    )
    counts: dict[int | None, int] = dict(rows)
    return TierDistribution(
        program_code=program.code,
        program_name=program.display_name,
        tiers=tuple(
            TierCount(rank=tier.rank, name=tier.display_name, members=counts.get(tier.pk, 0))
            for tier in tiers
        ),
        not_evaluated=counts.get(None, 0),
        customers=sum(counts.values()),
    )


def negative_balance_accounts(*, user: User, program: Program | None = None) -> QuerySet:
    """Points accounts below zero (a refund reversed points already spent) of the customers
    the user may see, most negative first: the balance the bank must recover or write off."""

    accounts = PointsAccount.objects.filter(
        customer_visibility_q(user, prefix="customer__"), balance__lt=0
    ).select_related("customer", "program")
    if program is not None:
        accounts = accounts.filter(program=program)
    return accounts.order_by("balance", "id")


def customer_value_get(*, customer_id: int) -> CustomerValue | None:
    """The customer's lifetime value with its model run (one query), or None before the first
    run or without a purchase."""
    return CustomerValue.objects.select_related("run").filter(customer_id=customer_id).first()
