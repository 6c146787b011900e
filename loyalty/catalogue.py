"""Reads of the reward catalogue and of tier benefits, for admin, API and the services.

Each read is a fixed number of queries for one customer, whatever their history: their
memberships, the catalogue's rows for those programs, and their balances or allowances.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from loyalty.models import (
    Benefit,
    BenefitAllowance,
    Membership,
    PointsAccount,
    Redemption,
    Reward,
    Tier,
)

# --- Tiers --------------------------------------------------------------------------------


def customer_tier_ranks(*, customer_id: int) -> dict[int, int]:
    """The customer's tier rank per program (program id -> rank); evaluated programs only."""
    return dict(
        Membership.objects.filter(customer_id=customer_id).values_list("program_id", "tier__rank")
    )


def customer_tier_rank(*, customer_id: int, program_id: int) -> int:
    """The customer's tier rank in a program; the base tier when not evaluated yet."""
    rank = (
        Membership.objects.filter(customer_id=customer_id, program_id=program_id)
        .values_list("tier__rank", flat=True)
        .first()
    )
    return rank if rank is not None else Tier.MIN_RANK


# --- Rewards ------------------------------------------------------------------------------


def reward_refusal(reward: Reward, *, today: date) -> str | Promise | None:
    """Why the reward cannot be redeemed on the day (inactive, not yet or no longer valid)."""
    if not reward.is_active or not reward.program.is_active:
        return _("This reward is not offered any more.")
    if reward.valid_from is not None and today < reward.valid_from:
        return _("This reward can be redeemed from %(day)s.") % {"day": reward.valid_from}
    if reward.valid_until is not None and today > reward.valid_until:
        return _("This reward could be redeemed until %(day)s.") % {"day": reward.valid_until}
    return None


def rewards_offered(*, as_of: date) -> QuerySet[Reward]:
    """Rewards that can be redeemed on the day, tiers aside."""
    return Reward.objects.filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=as_of),
        Q(valid_until__isnull=True) | Q(valid_until__gte=as_of),
        is_active=True,
        program__is_active=True,
    )


def rewards_for_customer(*, customer_id: int, as_of: date) -> QuerySet[Reward]:
    """The rewards the customer's tiers allow on the day (out of stock ones included: the RM
    can say so), cheapest first. The customer's ranks are read once, in this call."""
    ranks = customer_tier_ranks(customer_id=customer_id)
    allowed = Q(min_tier__isnull=True) | Q(min_tier__rank__lte=Tier.MIN_RANK)
    for program_id, rank in ranks.items():
        allowed |= Q(program_id=program_id, min_tier__rank__lte=rank)
    return (
        rewards_offered(as_of=as_of)
        .filter(allowed)
        .select_related("program", "min_tier")
        .order_by("program__code", "points_price", "id")
    )


def redemptions_recent(*, customer_id: int, limit: int) -> QuerySet[Redemption]:
    """The customer's last redemptions, newest first (the account's index); one query."""
    return (
        Redemption.objects.filter(account__customer_id=customer_id)
        .select_related("reward", "account__program")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_balances(*, customer_id: int) -> dict[int, int]:
    """The customer's points balance per program (program id -> points); one query."""
    return dict(
        PointsAccount.objects.filter(customer_id=customer_id).values_list("program_id", "balance")
    )


# --- Benefits -----------------------------------------------------------------------------


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """The local calendar period (month, quarter, year) holding the day: first and last day."""
    if period == Benefit.Period.MONTH:
        start = day.replace(day=1)
        months = 1
    elif period == Benefit.Period.QUARTER:
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        months = 3
    else:
        start = day.replace(month=1, day=1)
        months = 12
    return start, start + relativedelta(months=months) - timedelta(days=1)


@dataclass(frozen=True)
class HeldBenefit:
    """A benefit the customer holds now, and for a counted one this period's uses."""

    benefit: Benefit
    period_start: date | None
    period_end: date | None
    quota: int | None
    used: int

    @property
    def is_discount(self) -> bool:
        return self.benefit.quota is None

    @property
    def left(self) -> int | None:
        return None if self.quota is None else max(self.quota - self.used, 0)

    @property
    def discount_percent(self) -> Decimal | None:
        return self.benefit.discount_percent


def benefits_held(*, customer_id: int, as_of: date) -> list[HeldBenefit]:
    """The active benefits of the customer's tiers (their tier or below), with this period's
    uses; a holder without this period's allowance yet (upgraded today) has the full quota.
    Three queries: memberships, benefits, allowances."""
    ranks = customer_tier_ranks(customer_id=customer_id)
    if not ranks:
        return []
    held_q = Q(pk__in=[])
    for program_id, rank in ranks.items():
        held_q |= Q(tier__program_id=program_id, tier__rank__lte=rank)
    benefits = list(
        Benefit.objects.filter(held_q, is_active=True, tier__program__is_active=True)
        .select_related("tier__program")
        .order_by("tier__program__code", "tier__rank", "code")
    )
    counted = [benefit.pk for benefit in benefits if benefit.quota is not None]
    allowances = {
        allowance.benefit_id: allowance
        for allowance in BenefitAllowance.objects.filter(
            customer_id=customer_id,
            benefit_id__in=counted,
            period_start__lte=as_of,
            period_end__gte=as_of,
        )
    }
    held = []
    for benefit in benefits:
        if benefit.quota is None:
            held.append(HeldBenefit(benefit, None, None, None, 0))
            continue
        allowance = allowances.get(benefit.pk)
        if allowance is not None:
            held.append(
                HeldBenefit(
                    benefit,
                    allowance.period_start,
                    allowance.period_end,
                    allowance.quota,
                    allowance.used,
                )
            )
        else:
            start, end = period_bounds(benefit.period, as_of)
            held.append(HeldBenefit(benefit, start, end, benefit.quota, 0))
    return held
