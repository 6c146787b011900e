"""A program's earning rules as plain values, read once per earning pass (one query).

The SQL (`loyalty.earning.sql`) and the preview (`loyalty.earning.preview`) both work from
these values, so they cannot read the rules differently.
"""

from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from crm.models import Transaction
from loyalty.models import EarningRule

Kind = EarningRule.Kind
PURCHASE = Transaction.Kind.PURCHASE.value


@dataclass(frozen=True)
class Rule:
    id: int
    kind: str
    name: str
    valid_from: date | None
    valid_until: date | None
    transaction_kind: str  # base rates and bonuses: "" was turned into "purchase"
    source: str
    category: str
    tier_id: int | None
    weekday: int | None
    starts_at: time | None
    ends_at: time | None
    min_amount: Decimal | None
    interaction_kind: str
    points_per_unit: Decimal | None
    multiplier: Decimal | None
    points: int | None

    def is_valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class ProgramRules:
    program_id: int
    points_expiry_months: int
    rules: tuple[Rule, ...] = field(default=())

    def of_kind(self, *kinds: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.kind in kinds]

    @property
    def bases(self) -> list[Rule]:
        """Base rates, the most specific first: one naming its source before one for any."""
        return sorted(self.of_kind(Kind.BASE), key=lambda rule: (rule.source == "", rule.id))

    @property
    def transaction_bonuses(self) -> list[Rule]:
        return [rule for rule in self.of_kind(Kind.BONUS) if not rule.interaction_kind]

    @property
    def interaction_bonuses(self) -> list[Rule]:
        return [rule for rule in self.of_kind(Kind.BONUS) if rule.interaction_kind]

    @property
    def caps(self) -> list[Rule]:
        """Daily caps, the lowest first: when several hold on a day, the lowest applies."""
        return sorted(self.of_kind(Kind.DAILY_CAP), key=lambda rule: (rule.points, rule.id))

    @property
    def earns_on_transactions(self) -> bool:
        return bool(self.bases or self.transaction_bonuses)


def _rule(row: EarningRule) -> Rule:
    transaction_kind = row.transaction_kind
    if row.kind in (Kind.BASE, Kind.BONUS) and not row.interaction_kind:
        transaction_kind = transaction_kind or PURCHASE
    return Rule(
        id=row.pk,
        kind=row.kind,
        name=row.name,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        transaction_kind=transaction_kind,
        source=row.source,
        category=row.category,
        tier_id=row.tier_id,
        weekday=row.weekday,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        min_amount=row.min_amount,
        interaction_kind=row.interaction_kind,
        points_per_unit=row.points_per_unit,
        multiplier=row.multiplier,
        points=row.points,
    )


def program_rules_load(*, program_ids: list[int] | None = None) -> list[ProgramRules]:
    """The active rules of the active programs (or of `program_ids`), in one query. Validity
    dates are left to the caller: a rule applies on the transaction's local day."""
    rows = EarningRule.objects.filter(is_active=True, program__is_active=True).select_related(
        "program"
    )
    if program_ids is not None:
        rows = rows.filter(program_id__in=program_ids)
    programs: dict[int, tuple[int, list[Rule]]] = {}
    for row in rows.order_by("program_id", "id"):
        months = row.program.points_expiry_months
        programs.setdefault(row.program_id, (months, []))[1].append(_rule(row))
    return [
        ProgramRules(program_id=pk, points_expiry_months=months, rules=tuple(rules))
        for pk, (months, rules) in programs.items()
    ]
