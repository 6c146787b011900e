"""Reads of tier metrics (thin over the metric registry, loyalty/metrics) and of grace periods."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.selectors import user_supervised_team_ids
from loyalty.metrics import get_metric
from loyalty.models import Condition, GracePeriod


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


def condition_values(*, condition: Condition, as_of: date) -> QuerySet:
    """The metric of one condition, with its window and parameters, for all customers."""
    return metric_values(
        metric=condition.metric,
        as_of=as_of,
        window_months=condition.window_months,
        parameters=condition.parameters,
    )


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
