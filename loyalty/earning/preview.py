"""What one transaction would earn, and why, line by line (the rule editor's preview).

It reads the same plain rule values as the SQL (`loyalty.earning.rules`) and computes the same
way: floor(round(amount x rate x multipliers, 6)) + bonuses, then the daily cap. A test earns a
grid of transactions through the SQL and compares totals with this.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.db.models import Sum
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from crm.models import Customer, Transaction
from loyalty.earning.rules import PURCHASE, Kind, ProgramRules, Rule, program_rules_load
from loyalty.models import Membership, PointsEntry

MILLIONTH = Decimal("0.000001")


def points_floor(value: Decimal) -> int:
    """The SQL's floor(round(value, 6))."""
    rounded = value.quantize(MILLIONTH, rounding=ROUND_HALF_UP)
    return int(rounded.to_integral_value(rounding=ROUND_FLOOR))


@dataclass(frozen=True)
class Candidate:
    """A transaction as the rules see it."""

    amount: Decimal
    kind: str = PURCHASE
    category: str = ""
    source: str = ""
    occurred_at: datetime = field(default_factory=timezone.now)
    tier_id: int | None = None
    is_first_order: bool = False
    earned_today: int = 0  # what the customer's earn entries hold on that local day


@dataclass
class Preview:
    lines: list[str]
    points: int  # after the cap
    rule_points: int = 0
    bonus_points: int = 0


def _number(value: Decimal | int, places: int = 2) -> str:
    return number_format(value, decimal_pos=places, force_grouping=True)


def _matches(rule: Rule, candidate: Candidate) -> bool:
    local = timezone.localtime(candidate.occurred_at)
    if not rule.is_valid_on(local.date()):
        return False
    if rule.kind in (Kind.BASE, Kind.BONUS) and rule.transaction_kind != candidate.kind:
        return False
    if rule.kind == Kind.BASE and rule.source and rule.source != candidate.source:
        return False
    if rule.kind == Kind.BONUS and rule.min_amount is not None:
        return candidate.amount >= rule.min_amount
    if rule.kind == Kind.CATEGORY:
        return rule.category == candidate.category
    if rule.kind == Kind.TIME_WINDOW:
        moment = local.time().replace(microsecond=0)
        return (
            (rule.weekday is None or rule.weekday == local.weekday())
            and (rule.starts_at is None or moment >= rule.starts_at)
            and (rule.ends_at is None or moment < rule.ends_at)
        )
    if rule.kind == Kind.TIER:
        return rule.tier_id == candidate.tier_id
    if rule.kind == Kind.FIRST_ORDER:
        return candidate.kind == PURCHASE and candidate.is_first_order
    return True


def earning_explain(program: ProgramRules, candidate: Candidate) -> Preview:
    lines: list[str] = []
    day = timezone.localdate(candidate.occurred_at)
    base = next((rule for rule in program.bases if _matches(rule, candidate)), None)
    rule_points = 0
    if candidate.kind == Transaction.Kind.REFUND:
        lines.append(_("A refund earns nothing: it reverses what its purchase earned."))
        return Preview(lines=lines, points=0)
    if base is None or base.points_per_unit is None:
        lines.append(_("No base rate applies to this transaction: nothing from its amount."))
    else:
        value = candidate.amount * base.points_per_unit
        lines.append(
            _("%(name)s: %(rate)s point(s) per unit x %(amount)s = %(value)s")
            % {
                "name": base.name,
                "rate": _number(base.points_per_unit, 4).rstrip("0").rstrip(".,"),
                "amount": _number(candidate.amount),
                "value": _number(value),
            }
        )
        multipliers = program.of_kind(Kind.CATEGORY, Kind.TIME_WINDOW, Kind.TIER, Kind.FIRST_ORDER)
        for rule in multipliers:
            if _matches(rule, candidate) and rule.multiplier is not None:
                value *= rule.multiplier
                lines.append(
                    _("%(name)s x%(multiplier)s -> %(value)s")
                    % {
                        "name": rule.name,
                        "multiplier": _number(rule.multiplier, 3).rstrip("0").rstrip(".,"),
                        "value": _number(value),
                    }
                )
        rule_points = points_floor(value)
        lines.append(_("Rounded down: %(points)s") % {"points": _number(rule_points, 0)})
    bonus_points = 0
    for rule in program.transaction_bonuses:
        if _matches(rule, candidate):
            bonus_points += rule.points or 0
            lines.append(
                _("%(name)s +%(points)s")
                % {"name": rule.name, "points": _number(rule.points or 0, 0)}
            )
    total = rule_points + bonus_points
    points = total
    cap = next((rule for rule in program.caps if rule.is_valid_on(day)), None)
    if cap is not None and cap.points is not None and total > 0:
        points = max(0, min(total, cap.points - candidate.earned_today))
        lines.append(
            _("Daily cap %(cap)s: %(earlier)s earned that day already, so %(points)s of %(total)s")
            % {
                "cap": _number(cap.points, 0),
                "earlier": _number(candidate.earned_today, 0),
                "points": _number(points, 0),
                "total": _number(total, 0),
            }
        )
    lines.append(_("Total: %(points)s points") % {"points": _number(points, 0)})
    return Preview(lines=lines, points=points, rule_points=rule_points, bonus_points=bonus_points)


def earning_preview(
    *,
    program_id: int,
    amount: Decimal,
    kind: str,
    category: str,
    source: str,
    occurred_at: datetime,
    customer: Customer | None = None,
) -> Preview:
    """The preview for a program's current rules; with a customer, their tier, whether this
    would be their first order, and what they earned that day count (a few queries)."""
    loaded = program_rules_load(program_ids=[program_id])
    rules = loaded[0] if loaded else ProgramRules(program_id=program_id, points_expiry_months=0)
    candidate = Candidate(
        amount=amount,
        kind=kind or PURCHASE,
        category=category,
        source=source,
        occurred_at=occurred_at,
    )
    if customer is not None:
        day = timezone.localdate(occurred_at)
        tier_id = (
            Membership.objects.filter(customer=customer, program_id=program_id)
            .values_list("tier_id", flat=True)
            .first()
        )
        earlier = Transaction.objects.filter(
            customer=customer, kind=PURCHASE, occurred_at__lt=occurred_at
        ).exists()
        earned_today = PointsEntry.objects.filter(
            account__customer=customer,
            account__program_id=program_id,
            kind=PointsEntry.Kind.EARN,
            key__startswith="earn:",
            occurred_on=day,
        ).aggregate(total=Sum("points"))["total"]
        candidate = Candidate(
            amount=amount,
            kind=candidate.kind,
            category=category,
            source=source,
            occurred_at=occurred_at,
            tier_id=tier_id,
            is_first_order=not earlier,
            earned_today=earned_today or 0,
        )
    return earning_explain(rules, candidate)
