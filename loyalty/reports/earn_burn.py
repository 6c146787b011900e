"""Earn and burn per program and local month.

What each column holds (points; an entry's month is the month of its `occurred_on`, which is
the local day of what earned or spent the points):
- earned: the earn entries;
- burned: the redeem entries, less the cancellations of redemptions (reverse entries whose
  `reverses` is a redeem entry), so a cancelled redemption burns nothing;
- expired: the expire entries;
- refunds: reverse entries that reverse an earn entry (a refund takes back what its purchase
  earned), as posted: usually negative;
- adjusted: adjust entries and any other reversal, signed;
- net: the sum of all the month's entries = earned - burned - expired + refunds + adjusted.

Two GROUP BY queries whatever the number of entries or months: one over the month range's
entries by (program, month, kind), served by the (occurred_on, kind) index for a short range
(a scan of the table for a long one); one over the range's reverse entries only, joined to
the entries they reverse to tell cancellations from refunds. Measured once on PostgreSQL with
1,000,000 entries over 24 months and 60,000 accounts: a 12-month range (a parallel scan of half
the table) about 0.4 s, one month (the index) about 0.06 s.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import F, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from crm.selectors import User
from loyalty.models import PointsEntry, Program
from loyalty.reports.months import as_month, month_add, month_range
from loyalty.reports.scope import account_scope_q

Kind = PointsEntry.Kind
DEFAULT_MONTHS = 12
MAX_MONTHS = 60
_FIGURES = ("earned", "redeemed", "cancelled", "expired", "refunds", "adjusted", "net")


@dataclass
class EarnBurnMonth:
    month: date
    earned: int = 0
    redeemed: int = 0  # points taken by redemptions, before cancellations
    cancelled: int = 0  # points given back by cancelled redemptions
    expired: int = 0
    refunds: int = 0
    adjusted: int = 0
    net: int = 0

    @property
    def burned(self) -> int:
        return self.redeemed - self.cancelled


@dataclass
class ProgramEarnBurn:
    program: Program
    months: list[EarnBurnMonth] = field(default_factory=list)

    @property
    def total(self) -> EarnBurnMonth:
        total = EarnBurnMonth(month=self.months[0].month if self.months else date.min)
        for month in self.months:
            for name in _FIGURES:
                setattr(total, name, getattr(total, name) + getattr(month, name))
        return total


def default_month_range(today: date | None = None) -> tuple[date, date]:
    """The last 12 months, this one included."""
    this_month = (today or timezone.localdate()).replace(day=1)
    return month_add(this_month, 1 - DEFAULT_MONTHS), this_month


def points_earn_burn(*, user: User, first: date, last: date) -> list[ProgramEarnBurn]:
    """Every program's months from `first`'s to `last`'s (both included). Three queries."""
    months = month_range(first, last)
    programs = list(Program.objects.order_by("code"))
    if not months:
        return [ProgramEarnBurn(program=program) for program in programs]
    entries = PointsEntry.objects.filter(
        account_scope_q(user, prefix="account__"),
        occurred_on__gte=months[0],
        occurred_on__lt=month_add(months[-1], 1),
    )
    cells: dict[tuple[int, date], EarnBurnMonth] = {}

    def cell(program_id: int, month) -> EarnBurnMonth:
        month = as_month(month)
        return cells.setdefault((program_id, month), EarnBurnMonth(month=month))

    by_kind = (
        entries.values("kind", program_id=F("account__program_id"), month=TruncMonth("occurred_on"))
        .annotate(points=Sum("points"))
        .order_by()
    )
    for row in by_kind:
        target, points = cell(row["program_id"], row["month"]), int(row["points"])
        target.net += points
        if row["kind"] == Kind.EARN:
            target.earned += points
        elif row["kind"] == Kind.REDEEM:
            target.redeemed -= points
        elif row["kind"] == Kind.EXPIRE:
            target.expired -= points
        elif row["kind"] == Kind.ADJUST:
            target.adjusted += points
        # Reverse entries are split by what they reverse, below.
    reversals = (
        entries.filter(kind=Kind.REVERSE)
        .values(
            program_id=F("account__program_id"),
            month=TruncMonth("occurred_on"),
            reversed_kind=F("reverses__kind"),
        )
        .annotate(points=Sum("points"))
        .order_by()
    )
    for reversal in reversals:
        target = cell(reversal["program_id"], reversal["month"])
        points = int(reversal["points"])
        if reversal["reversed_kind"] == Kind.REDEEM:
            target.cancelled += points
        elif reversal["reversed_kind"] == Kind.EARN:
            target.refunds += points
        else:
            target.adjusted += points
    report = []
    for program in programs:
        item = ProgramEarnBurn(program=program)
        item.months = [
            cells.get((program.pk, month)) or EarnBurnMonth(month=month) for month in months
        ]
        report.append(item)
    return report
