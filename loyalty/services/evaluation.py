"""Evaluation of a program's tiers: metrics set-based, rules in Python, writes in bulk.

Every condition's metric is computed for all customers in one query per distinct
(metric, window, parameters), whatever the number of customers. The highest tier a customer
qualifies for is then decided in Python: a tier holds when ANY of its groups holds, a group
when ALL its conditions hold (a group without conditions always holds: the base tier).

Rules of movement in this slice: upgrades take effect at this evaluation, and a customer
without a membership gets the tier they qualify for. There are NO downgrades yet: a customer
who qualifies for less keeps their tier. Downgrades come with the warning rule (3 monthly
evaluations under 50% of the threshold, then 1 month to recover), in a later slice.
"""

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from crm.models import Customer
from loyalty.metrics import get_metric
from loyalty.metrics.base import end_of_day
from loyalty.models import (
    Condition,
    CriterionGroup,
    EvaluationRun,
    Membership,
    MembershipChange,
    Program,
    Tier,
)

CHUNK_SIZE = 1000

_OPERATORS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    Condition.Operator.GTE: operator.ge,
    Condition.Operator.GT: operator.gt,
    Condition.Operator.LTE: operator.le,
    Condition.Operator.LT: operator.lt,
}

MetricKey = tuple[str, int | None, tuple[tuple[str, Any], ...]]


@dataclass(frozen=True)
class Qualification:
    tier: Tier
    reason: dict[str, Any]


def _metric_key(condition: Condition) -> MetricKey:
    return (
        condition.metric,
        condition.window_months,
        tuple(sorted((condition.parameters or {}).items())),
    )


def _as_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _program_tiers(program_id: int) -> list[Tier]:
    """The program's tiers, highest rank first, with their groups and conditions (3 queries)."""
    return list(
        Tier.objects.filter(program_id=program_id)
        .order_by("-rank")
        .prefetch_related(
            Prefetch(
                "groups",
                queryset=CriterionGroup.objects.order_by("id").prefetch_related(
                    Prefetch("conditions", queryset=Condition.objects.order_by("id"))
                ),
            )
        )
    )


def _metric_values(
    tiers: list[Tier], *, as_of: date, customer_id: int | None = None
) -> dict[MetricKey, dict[int, Decimal]]:
    """{metric key: {customer_id: value}}, one query per distinct metric key."""
    keys: dict[MetricKey, Condition] = {}
    for tier in tiers:
        for group in tier.groups.all():
            for condition in group.conditions.all():
                keys.setdefault(_metric_key(condition), condition)
    values: dict[MetricKey, dict[int, Decimal]] = {}
    for key, condition in keys.items():
        metric = get_metric(condition.metric)
        rows = metric.values(
            as_of=as_of,
            window_months=condition.window_months,
            parameters=metric.clean_parameters(condition.parameters),
        )
        if customer_id is not None:
            rows = rows.filter(customer_id=customer_id)
        values[key] = {
            cid: _as_decimal(value) for cid, value in rows.values_list("customer_id", "value")
        }
    return values


def _qualify(
    customer_id: int, tiers: list[Tier], values: dict[MetricKey, dict[int, Decimal]]
) -> Qualification | None:
    """The highest tier the customer qualifies for, and the group and values that made it."""
    for tier in tiers:  # highest rank first
        for group in tier.groups.all():
            conditions = []
            for condition in group.conditions.all():
                value = values[_metric_key(condition)].get(customer_id, Decimal(0))
                if not _OPERATORS[condition.operator](value, condition.threshold):
                    break
                conditions.append(
                    {
                        "metric": condition.metric,
                        "window_months": condition.window_months,
                        "parameters": condition.parameters,
                        "operator": condition.operator,
                        "value": str(value),
                        "threshold": str(condition.threshold),
                    }
                )
            else:
                reason = {
                    "tier_rank": tier.rank,
                    "group_id": group.pk,
                    "group": group.name,
                    "conditions": conditions,
                }
                return Qualification(tier=tier, reason=reason)
    return None


@dataclass
class _Plan:
    """What to write for one chunk of customers."""

    new: list[tuple[int, Qualification]]
    upgrades: list[tuple[Membership, Qualification]]


def _plan(
    customer_ids: Iterable[int],
    *,
    tiers: list[Tier],
    values: dict[MetricKey, dict[int, Decimal]],
    memberships: dict[int, Membership],
) -> _Plan:
    rank_of = {tier.pk: tier.rank for tier in tiers}
    plan = _Plan(new=[], upgrades=[])
    for customer_id in customer_ids:
        qualification = _qualify(customer_id, tiers, values)
        if qualification is None:
            continue  # the program has no tier this customer reaches (no base tier yet)
        membership = memberships.get(customer_id)
        if membership is None:
            plan.new.append((customer_id, qualification))
        elif qualification.tier.rank > rank_of.get(membership.tier_id, 0):
            plan.upgrades.append((membership, qualification))
        # A customer who qualifies for less keeps their tier in this slice: downgrades come
        # with the warning rule (see the module's docstring).
    return plan


def _write(
    plan: _Plan,
    *,
    program_id: int,
    as_of: date,
    run: EvaluationRun | None = None,
    actor: Any = None,
) -> None:
    """Write one chunk's memberships and their history, in bulk (call inside a transaction)."""
    created = Membership.objects.bulk_create(
        [
            Membership(
                customer_id=customer_id,
                program_id=program_id,
                tier=qualification.tier,
                since=as_of,
            )
            for customer_id, qualification in plan.new
        ]
    )
    from_tier_ids = [membership.tier_id for membership, _qualification in plan.upgrades]
    for membership, qualification in plan.upgrades:
        membership.tier = qualification.tier
        membership.since = as_of
    if plan.upgrades:
        Membership.objects.bulk_update(
            [membership for membership, _qualification in plan.upgrades], ["tier", "since"]
        )
    changes = [
        MembershipChange(
            membership=membership,
            customer_id=membership.customer_id,
            program_id=program_id,
            from_tier=None,
            to_tier=qualification.tier,
            kind=MembershipChange.Kind.JOINED,
            evaluated_on=as_of,
            reason=qualification.reason,
            run=run,
            changed_by=actor,
        )
        for membership, (_customer_id, qualification) in zip(created, plan.new, strict=True)
    ] + [
        MembershipChange(
            membership=membership,
            customer_id=membership.customer_id,
            program_id=program_id,
            from_tier_id=from_tier_id,
            to_tier=qualification.tier,
            kind=MembershipChange.Kind.UPGRADE,
            evaluated_on=as_of,
            reason=qualification.reason,
            run=run,
            changed_by=actor,
        )
        for (membership, qualification), from_tier_id in zip(
            plan.upgrades, from_tier_ids, strict=True
        )
    ]
    MembershipChange.objects.bulk_create(changes)


def program_evaluate(*, program_id: int, as_of: date) -> EvaluationRun:
    """Evaluate every customer of the program as of a day; idempotent per (program, day).

    A finished run on the same day is returned as it is. A run left 'running' (its worker
    died) or 'failed' is run again: it recomputes and writes only what still differs, so the
    chunks it committed before are not written twice.
    """
    program = Program.objects.get(pk=program_id)
    run, _created = EvaluationRun.objects.get_or_create(program=program, as_of=as_of)
    if run.status == EvaluationRun.Status.DONE:
        return run
    if run.status != EvaluationRun.Status.RUNNING:
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=EvaluationRun.Status.RUNNING, error=""
        )
        run.status = EvaluationRun.Status.RUNNING
    try:
        tiers = _program_tiers(program_id)
        values = _metric_values(tiers, as_of=as_of)
        customer_ids = list(
            Customer.objects.filter(created_at__lt=end_of_day(as_of))
            .exclude(status=Customer.Status.MERGED)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        memberships = {
            membership.customer_id: membership
            for membership in Membership.objects.filter(program_id=program_id).only(
                "id", "customer_id", "program_id", "tier_id", "since"
            )
        }
        for start in range(0, len(customer_ids), CHUNK_SIZE):
            chunk = customer_ids[start : start + CHUNK_SIZE]
            plan = _plan(chunk, tiers=tiers, values=values, memberships=memberships)
            if not plan.new and not plan.upgrades:
                continue
            with transaction.atomic():
                _write(plan, program_id=program_id, as_of=as_of, run=run)
                run.memberships_created += len(plan.new)
                run.upgrades += len(plan.upgrades)
                run.save(update_fields=["memberships_created", "upgrades"])
    except Exception as error:
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=EvaluationRun.Status.FAILED, error=repr(error)[:2000]
        )
        raise
    run.status = EvaluationRun.Status.DONE
    run.customers_evaluated = len(customer_ids)
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "customers_evaluated", "finished_at"])
    return run


def customer_evaluate(
    *, program_id: int, customer_id: int, actor: Any, as_of: date | None = None
) -> MembershipChange | None:
    """Evaluate one customer now; the history row, if anything changed, names the user."""
    as_of = as_of or timezone.localdate()
    tiers = _program_tiers(program_id)
    values = _metric_values(tiers, as_of=as_of, customer_id=customer_id)
    with transaction.atomic():
        memberships = {
            membership.customer_id: membership
            for membership in Membership.objects.select_for_update().filter(
                program_id=program_id, customer_id=customer_id
            )
        }
        plan = _plan([customer_id], tiers=tiers, values=values, memberships=memberships)
        if not plan.new and not plan.upgrades:
            return None
        _write(plan, program_id=program_id, as_of=as_of, actor=actor)
    return (
        MembershipChange.objects.filter(program_id=program_id, customer_id=customer_id)
        .order_by("-id")
        .first()
    )
