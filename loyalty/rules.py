"""A program's tier rules as plain values: loaded from the database, or built from a form.

The evaluation (SQL, loyalty/scratch.py) and the explanation (Python, one customer) read the
same rules, so a supervisor's unsaved change can be previewed on live data like saved ones.
A tier holds when ANY of its groups holds; a group holds when ALL its conditions hold.
"""

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch

from loyalty.models import Condition, CriterionGroup, Tier

MetricKey = tuple[str, int | None, tuple[tuple[str, Any], ...]]

_OPERATORS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    Condition.Operator.GTE: operator.ge,
    Condition.Operator.GT: operator.gt,
    Condition.Operator.LTE: operator.le,
    Condition.Operator.LT: operator.lt,
}
# "At least" conditions are relaxed by the warning ratio; "at most" ones stay as they are.
_SCALED_OPERATORS = frozenset({Condition.Operator.GTE, Condition.Operator.GT})


@dataclass(frozen=True)
class ConditionRule:
    metric: str
    window_months: int | None
    operator: str
    threshold: Decimal
    parameters: tuple[tuple[str, Any], ...] = ()
    id: int | None = None

    @property
    def key(self) -> MetricKey:
        return (self.metric, self.window_months, self.parameters)

    def threshold_at(self, ratio: Decimal = Decimal(1)) -> Decimal:
        if self.operator in _SCALED_OPERATORS:
            return (self.threshold * ratio).quantize(Decimal("0.01"))
        return self.threshold

    def holds(self, value: Decimal, ratio: Decimal = Decimal(1)) -> bool:
        return _OPERATORS[self.operator](value, self.threshold_at(ratio))

    def gap(self, value: Decimal) -> Decimal:
        """How much more (or less, for "at most") the value must move for this to hold."""
        if self.holds(value):
            return Decimal(0)
        step = Decimal("0.01") if self.operator in (">", "<") else Decimal(0)
        if self.operator in _SCALED_OPERATORS:
            return self.threshold - value + step
        return value - self.threshold + step

    def describe(self, value: Decimal) -> dict[str, Any]:
        """The condition and a customer's value against it, as recorded in the history."""
        return {
            "metric": self.metric,
            "window_months": self.window_months,
            "parameters": dict(self.parameters),
            "operator": self.operator,
            "value": str(value),
            "threshold": str(self.threshold),
        }


@dataclass(frozen=True)
class GroupRule:
    name: str
    conditions: tuple[ConditionRule, ...]
    id: int | None = None

    def holds(self, values: Mapping[MetricKey, Decimal], ratio: Decimal = Decimal(1)) -> bool:
        return all(
            condition.holds(values.get(condition.key, Decimal(0)), ratio)
            for condition in self.conditions
        )


@dataclass(frozen=True)
class TierRule:
    rank: int
    name: str
    groups: tuple[GroupRule, ...]
    id: int | None = None


@dataclass(frozen=True)
class ProgramRules:
    program_id: int
    tiers: tuple[TierRule, ...]  # lowest rank first

    @classmethod
    def load(cls, program_id: int) -> "ProgramRules":
        """The program's saved rules (3 queries)."""
        tiers = (
            Tier.objects.filter(program_id=program_id)
            .order_by("rank")
            .prefetch_related(
                Prefetch(
                    "groups",
                    queryset=CriterionGroup.objects.order_by("id").prefetch_related(
                        Prefetch("conditions", queryset=Condition.objects.order_by("id"))
                    ),
                )
            )
        )
        return cls(
            program_id=program_id,
            tiers=tuple(
                TierRule(
                    id=tier.pk,
                    rank=tier.rank,
                    name=tier.display_name,
                    groups=tuple(
                        GroupRule(
                            id=group.pk,
                            name=group.name,
                            conditions=tuple(
                                condition_rule(condition) for condition in group.conditions.all()
                            ),
                        )
                        for group in tier.groups.all()
                    ),
                )
                for tier in tiers
            ),
        )

    @property
    def base(self) -> TierRule | None:
        return self.tiers[0] if self.tiers else None

    def tier(self, rank: int) -> TierRule | None:
        return next((tier for tier in self.tiers if tier.rank == rank), None)

    def below(self, rank: int) -> TierRule | None:
        """The next tier down (ranks need not be consecutive), or None at the base."""
        lower = [tier for tier in self.tiers if tier.rank < rank]
        return lower[-1] if lower else None

    def above(self, rank: int) -> TierRule | None:
        return next((tier for tier in self.tiers if tier.rank > rank), None)

    def metric_keys(self) -> list[MetricKey]:
        """Every distinct (metric, window, parameters), in a stable order."""
        keys: dict[MetricKey, None] = {}
        for tier in self.tiers:
            for group in tier.groups:
                for condition in group.conditions:
                    keys.setdefault(condition.key)
        return list(keys)


def condition_rule(condition: Condition) -> ConditionRule:
    return ConditionRule(
        id=condition.pk,
        metric=condition.metric,
        window_months=condition.window_months,
        operator=condition.operator,
        threshold=condition.threshold,
        parameters=tuple(sorted((condition.parameters or {}).items())),
    )


def with_thresholds(rules: ProgramRules, thresholds: Mapping[int, Decimal]) -> ProgramRules:
    """The same rules with some conditions' thresholds changed: {condition id: threshold}."""

    def changed(condition: ConditionRule) -> ConditionRule:
        if condition.id is not None and condition.id in thresholds:
            return replace(condition, threshold=thresholds[condition.id])
        return condition

    return replace(
        rules,
        tiers=tuple(
            replace(
                tier,
                groups=tuple(
                    replace(group, conditions=tuple(map(changed, group.conditions)))
                    for group in tier.groups
                ),
            )
            for tier in rules.tiers
        ),
    )
