"""Redeeming a reward and cancelling a redemption: points and stock move together.

A redemption is one transaction: the redeem entry is posted first (`ledger.debit`: the guarded
balance move refuses a short balance, the unique key makes a retry find its entry), then the
stock is taken with a guarded `UPDATE ... WHERE stock > 0`; when the stock is gone the whole
transaction, the debit with it, rolls back. Neither points nor stock can be oversold, whatever
the number of requests at once.

Lock order, everywhere: the points account, then the redemption, then the reward; so a
redemption and a cancellation running at once never wait on each other in a circle.
"""

import hashlib
import logging
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.catalogue import customer_tier_rank, reward_refusal
from loyalty.models import PointsAllocation, PointsEntry, Redemption, Reward
from loyalty.services import ledger

logger = logging.getLogger(__name__)

Kind = PointsEntry.Kind


class OutOfStock(ValidationError):
    def __init__(self) -> None:
        super().__init__(_("This reward is out of stock."), code="out_of_stock")


class RewardNotAvailable(ValidationError):
    def __init__(self, message: Any = None) -> None:
        super().__init__(
            message or _("This reward cannot be redeemed today."), code="reward_not_available"
        )


class TierTooLow(ValidationError):
    def __init__(self, *, tier: Any) -> None:
        super().__init__(
            _("This reward is for customers at %(tier)s or above.") % {"tier": tier},
            code="tier_too_low",
        )


class NotVisible(ValidationError):
    def __init__(self) -> None:
        super().__init__(_("You cannot act for this customer."), code="not_visible")


def redeem_key(key: str) -> str:
    """The ledger key of a redemption asked for with `key` (admin form or API request)."""
    return f"redeem:{key}"


@transaction.atomic
def reward_redeem(*, actor: Any, customer: Customer, reward: Reward, key: str) -> Redemption:
    """Redeem a reward for a customer: the points and one unit of stock, or nothing.

    Idempotent on `key`: the same key again returns the first redemption and changes nothing,
    even when the reward has run out since. The same key for another reward or customer is
    refused (`ledger.KeyReused`).
    """
    _ensure_may_act(actor, customer, "loyalty.add_redemption")
    entry_key = redeem_key(key)
    fingerprint = _fingerprint(customer_id=customer.pk, reward_id=reward.pk)
    existing = ledger.entry_for_key(entry_key, fingerprint)
    if existing is not None:
        return Redemption.objects.get(entry=existing)

    reward = Reward.objects.select_related("program", "min_tier").get(pk=reward.pk)
    today = timezone.localdate()
    refusal = reward_refusal(reward, today=today)
    if refusal is not None:
        raise RewardNotAvailable(refusal)
    if reward.min_tier is not None:
        rank = customer_tier_rank(customer_id=customer.pk, program_id=reward.program_id)
        if rank < reward.min_tier.rank:
            raise TierTooLow(tier=reward.min_tier.display_name)

    account = ledger.account_get_or_create(customer_id=customer.pk, program_id=reward.program_id)
    posting = ledger.debit(
        account=account,
        kind=Kind.REDEEM,
        points=reward.points_price,
        key=entry_key,
        fingerprint=fingerprint,
        occurred_on=today,
        created_by=actor,
        note=reward.name,
        details={"reward": reward.pk},
    )
    if not posting.created:  # a concurrent retry of the same key posted first: its redemption
        return Redemption.objects.get(entry=posting.entry)
    if reward.stock is not None:
        # NULL stays NULL: a reward made unlimited meanwhile is still matched.
        taken = Reward.objects.filter(Q(stock__isnull=True) | Q(stock__gt=0), pk=reward.pk).update(
            stock=F("stock") - 1
        )
        if not taken:
            raise OutOfStock()  # the debit above rolls back with the transaction
    redemption = Redemption.objects.create(
        account=account,
        reward=reward,
        points=reward.points_price,
        entry=posting.entry,
        created_by=actor,
    )
    logger.info(
        "redemption %s: reward %s for customer %s by user %s",
        redemption.pk,
        reward.pk,
        customer.pk,
        actor.pk,
    )
    return redemption


@transaction.atomic
def redemption_cancel(*, actor: Any, redemption: Redemption, key: str = "") -> Redemption:
    """Cancel a redemption once: its points come back (a REVERSE entry) and its stock unit.

    The reversal's ledger key is per redemption (`cancel:<id>`), so a second cancel, at once or
    later and whatever its own request key, finds it and changes nothing; `key` (the request's)
    is kept in the entry's details for the record.

    The points come back with the earliest expiry of the lots the redemption took them from.
    If that day has passed, the next nightly expiry takes them again: a cancellation restores
    the points as they were, it does not extend their life.
    """
    redemption = Redemption.objects.select_related("account", "entry", "reward").get(
        pk=redemption.pk
    )
    _ensure_may_act(actor, redemption.account.customer_id, "loyalty.change_redemption")
    if redemption.status == Redemption.Status.CANCELLED:
        return redemption

    posting = ledger.credit(
        account=redemption.account,
        kind=Kind.REVERSE,
        points=redemption.points,
        key=f"cancel:{redemption.pk}",
        expires_on=_points_expiry(redemption),
        reverses=redemption.entry,
        created_by=actor,
        details={"redemption": redemption.pk, "request_key": key},
    )
    if not posting.created:  # cancelled at the same moment by someone else
        return Redemption.objects.select_related("account", "entry", "reward").get(pk=redemption.pk)
    now = timezone.now()
    changed = Redemption.objects.filter(
        pk=redemption.pk, status=Redemption.Status.COMPLETED
    ).update(
        status=Redemption.Status.CANCELLED,
        cancel_entry=posting.entry,
        cancelled_by=actor,
        cancelled_at=now,
    )
    if not changed:  # cannot happen while the key is unique; refuse rather than guess
        raise ValidationError(_("This redemption was already cancelled."), code="cancelled")
    Reward.objects.filter(pk=redemption.reward_id, stock__isnull=False).update(stock=F("stock") + 1)
    logger.info("redemption %s cancelled by user %s", redemption.pk, actor.pk)
    redemption.status = Redemption.Status.CANCELLED
    redemption.cancel_entry = posting.entry
    redemption.cancelled_by = actor
    redemption.cancelled_at = now
    return redemption


def _points_expiry(redemption: Redemption) -> date:
    """The earliest expiry among the lots the redeem entry took from."""
    earliest = PointsAllocation.objects.filter(entry_id=redemption.entry_id).aggregate(
        earliest=Min("lot__expires_on")
    )["earliest"]
    if earliest is not None:
        return earliest
    # No allocations (not possible for a redeem, which never overdraws): a fresh expiry.
    program = redemption.account.program
    return ledger.expiry_for(program, timezone.localdate())


def _ensure_may_act(actor: Any, customer: Customer | int, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied
    customer_id = customer if isinstance(customer, int) else customer.pk
    if not Customer.objects.filter(customer_visibility_q(actor), pk=customer_id).exists():
        raise NotVisible()


def _fingerprint(*, customer_id: int, reward_id: int) -> str:
    """What a redeem key was used for: a retry must ask for the same reward for the same
    customer."""
    return hashlib.sha256(f"redeem customer={customer_id} reward={reward_id}".encode()).hexdigest()
