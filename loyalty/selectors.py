"""Reads of tier metrics: thin over the metric registry (loyalty/metrics)."""

from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from loyalty.metrics import get_metric
from loyalty.models import Condition


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
