"""Liability: the points customers hold, what they are worth, and when they expire.

- By program and current tier: accounts with a positive balance, their points, and the points
  times the program's `point_value`. A customer the evaluation has not placed in a tier yet
  (no membership in the program) counts under "not evaluated yet".
- Negative balances (a refund after the points were spent) are debts, not liability: counted
  apart, per program, never netted against the liability.
- The expiry schedule: what is left of open lots (`PointsLot.remaining > 0`) by the month it
  expires, this month and the next eleven, then "later". Points whose day has passed but that
  the nightly expiry has not taken yet are shown as "overdue". The schedule's total equals the
  positive balances: the ledger keeps sum(lots.remaining) == max(balance, 0) per account.

Each figure is one GROUP BY: one over the accounts (with their membership, joined on customer
and program), one over the open lots.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Count, F, FilteredRelation, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm.selectors import User
from loyalty.models import PointsAccount, PointsLot, Program, Tier
from loyalty.reports.months import as_month, month_add
from loyalty.reports.scope import account_scope_q

SCHEDULE_MONTHS = 12
_OVERDUE, _LATER = "overdue", "later"


def points_value(points: int, program: Program) -> Decimal:
    return (Decimal(points) * program.point_value).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class LiabilityRow:
    tier: Tier | None  # None: not evaluated yet
    accounts: int
    points: int
    value: Decimal


@dataclass(frozen=True)
class ExpiryBucket:
    month: date | None  # the month's first day; None: later than the schedule
    is_overdue: bool
    points: int
    value: Decimal


@dataclass
class ProgramLiability:
    program: Program
    rows: list[LiabilityRow] = field(default_factory=list)
    negative_accounts: int = 0
    negative_points: int = 0  # below zero: what customers owe
    expiry: list[ExpiryBucket] = field(default_factory=list)

    @property
    def accounts(self) -> int:
        return sum(row.accounts for row in self.rows)

    @property
    def points(self) -> int:
        return sum(row.points for row in self.rows)

    @property
    def value(self) -> Decimal:
        return points_value(self.points, self.program)

    @property
    def negative_value(self) -> Decimal:
        return points_value(self.negative_points, self.program)


def points_liability(*, user: User, today: date | None = None) -> list[ProgramLiability]:
    """Every program's liability by tier, its debts and its expiry schedule.

    Four queries: programs, tiers, the accounts' GROUP BY, the lots' GROUP BY.
    """
    programs = list(Program.objects.order_by("code"))
    tiers: dict[int, list[Tier | None]] = defaultdict(list)
    for program_tier in Tier.objects.order_by("program_id", "-rank"):
        tiers[program_tier.program_id].append(program_tier)
    # (program, tier or None) -> (accounts, points, negative accounts, negative points)
    figures: dict[tuple[int, int | None], dict[str, int]] = {
        (row["program_id"], row["tier_id"]): row for row in _balances(user)
    }
    expiry = points_expiry_schedule(user=user, programs=programs, today=today)
    report = []
    for program in programs:
        item = ProgramLiability(program=program, expiry=expiry[program.pk])
        for tier in [*tiers[program.pk], None]:  # None: not evaluated yet
            row = figures.get((program.pk, tier.pk if tier else None), {})
            # SUM over a bigint is a numeric on PostgreSQL: back to int.
            points = int(row.get("points") or 0)
            item.rows.append(
                LiabilityRow(
                    tier=tier,
                    accounts=row.get("accounts") or 0,
                    points=points,
                    value=points_value(points, program),
                )
            )
            item.negative_accounts += row.get("negative_accounts") or 0
            item.negative_points += int(row.get("negative_points") or 0)
        report.append(item)
    return report


def _balances(user: User):
    """Accounts with a balance other than zero, grouped by program and current tier."""
    positive, negative = Q(balance__gt=0), Q(balance__lt=0)
    return (
        PointsAccount.objects.filter(account_scope_q(user))
        .exclude(balance=0)
        .annotate(
            # The customer's membership in the account's program, if any (a LEFT JOIN).
            membership=FilteredRelation(
                "customer__memberships",
                condition=Q(customer__memberships__program=F("program")),
            )
        )
        .values("program_id", tier_id=F("membership__tier_id"))
        .annotate(
            accounts=Count("pk", filter=positive),
            points=Sum("balance", filter=positive),
            negative_accounts=Count("pk", filter=negative),
            negative_points=Sum("balance", filter=negative),
        )
        .order_by()
    )


def points_expiry_schedule(
    *, user: User, programs: list[Program], today: date | None = None
) -> dict[int, list[ExpiryBucket]]:
    """Per program: overdue (if any), this month and the next 11, then later. One query."""
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    months = [month_add(this_month, offset) for offset in range(SCHEDULE_MONTHS)]
    horizon = month_add(this_month, SCHEDULE_MONTHS)
    rows = (
        PointsLot.objects.filter(account_scope_q(user, prefix="account__"), remaining__gt=0)
        .values(program_id=F("account__program_id"), month=TruncMonth("expires_on"))
        .annotate(points=Sum("remaining"))
        .order_by()
    )
    # (program, month's first day, or OVERDUE / LATER) -> points
    points: dict[tuple[int, date | str], int] = defaultdict(int)
    for row in rows:
        month = as_month(row["month"])
        bucket = _OVERDUE if month < this_month else _LATER if month >= horizon else month
        points[(row["program_id"], bucket)] += int(row["points"])
    schedule = {}
    for program in programs:
        items = []
        if points[(program.pk, _OVERDUE)]:
            items.append(_bucket(program, None, points[(program.pk, _OVERDUE)], is_overdue=True))
        items += [_bucket(program, month, points[(program.pk, month)]) for month in months]
        items.append(_bucket(program, None, points[(program.pk, _LATER)]))
        schedule[program.pk] = items
    return schedule


def _bucket(
    program: Program, month: date | None, points: int, *, is_overdue: bool = False
) -> ExpiryBucket:
    return ExpiryBucket(
        month=month, is_overdue=is_overdue, points=points, value=points_value(points, program)
    )
