"""What a customer merge does with loyalty's rows: registered with crm's merge from ready().

Memberships keep the higher tier; points move through ledger entries (never by editing them);
benefit allowances add their uses up to the quota; referrals keep the paid one.
"""

from django.db.models import Sum
from django.utils import timezone

from crm.services.merges import Clash, clash_policy_register, merge_preparation_register
from loyalty.models import (
    BenefitAllowance,
    BenefitUse,
    Membership,
    MembershipChange,
    PointsAccount,
    PointsEntry,
    PointsLot,
    Referral,
)
from loyalty.services import ledger


@clash_policy_register("loyalty.Membership.customer")
def memberships_clash(clash: Clash) -> dict[str, int]:
    """Both customers are members of the same program: the survivor keeps the higher tier,
    and the duplicate's history moves onto the survivor's membership (one row per program)."""
    combined = 0
    for duplicate in clash.rows.select_related("tier"):
        survivor = Membership.objects.select_related("tier").get(
            customer_id=clash.survivor_id, program_id=duplicate.program_id
        )
        MembershipChange.objects.filter(membership=duplicate).update(
            membership=survivor, customer_id=clash.survivor_id
        )
        if duplicate.tier.rank > survivor.tier.rank:
            survivor.tier, survivor.since = duplicate.tier, duplicate.since
            survivor.save(update_fields=["tier", "since"])
        duplicate.delete()
        combined += 1
    return {"combined": combined}


# --- Points -----------------------------------------------------------------------------------


@clash_policy_register("loyalty.PointsAccount.customer")
def points_accounts_clash(clash: Clash) -> dict[str, int]:
    """Both customers have points in the same program: the duplicate's balance moves to the
    survivor's account through ledger entries (entries are never edited or deleted).

    A positive balance leaves the duplicate's account in one adjustment and enters the
    survivor's in one adjustment per expiry date of the duplicate's open lots, so that every
    point keeps the day it expires. A negative balance (a refund after a spend) moves as a debt:
    the duplicate's account is brought to zero and the survivor's debited, below zero if need
    be. The emptied account stays with the duplicate (merged) customer with its history.
    Keyed `merge:{account}:...`: the merge's own transaction makes it once.
    """
    moved_points = 0
    for duplicate in clash.rows.select_related("program").order_by("pk"):
        survivor = PointsAccount.objects.get(
            customer_id=clash.survivor_id, program_id=duplicate.program_id
        )
        moved_points += _points_move(duplicate, survivor, reason=clash.reason)
        clash.kept.add(duplicate.pk)
    return {"points_accounts_emptied": len(clash.kept), "points_moved": moved_points}


def _points_move(duplicate: PointsAccount, survivor: PointsAccount, *, reason: str) -> int:
    # The duplicate's balance, read under the posting's row lock below, can only be moved by
    # the merge: the customer rows are locked by customer_merge.
    balance = PointsAccount.objects.values_list("balance", flat=True).get(pk=duplicate.pk)
    common = {"kind": PointsEntry.Kind.ADJUST, "note": reason}
    details = {"merge": {"from_account": duplicate.pk, "to_account": survivor.pk}}
    today = timezone.localdate()
    if balance > 0:
        by_expiry = list(
            PointsLot.objects.filter(account=duplicate, remaining__gt=0)
            .values("expires_on")
            .annotate(points=Sum("remaining"))
            .order_by("expires_on")
        )
        ledger.debit(
            account=duplicate,
            points=balance,
            key=f"merge:{duplicate.pk}:out",
            details=details,
            **common,
        )
        for lot in by_expiry:
            ledger.credit(
                account=survivor,
                points=int(lot["points"]),
                expires_on=lot["expires_on"],
                key=f"merge:{duplicate.pk}:in:{lot['expires_on'].isoformat()}",
                details=details,
                **common,
            )
    elif balance < 0:
        ledger.credit(
            account=duplicate,
            points=-balance,
            expires_on=ledger.expiry_for(duplicate.program, today),
            key=f"merge:{duplicate.pk}:out",
            details=details,
            **common,
        )
        ledger.debit(
            account=survivor,
            points=-balance,
            allow_negative=True,
            key=f"merge:{duplicate.pk}:in",
            details=details,
            **common,
        )
    return abs(balance)


# --- Benefits and referrals -------------------------------------------------------------------


@clash_policy_register("loyalty.BenefitAllowance.customer")
def benefit_allowances_clash(clash: Clash) -> dict[str, int]:
    """Both customers have an allowance of the same benefit for the same period: the survivor's
    stays and counts the uses of both, up to its quota (one person used them all; a merge must
    not give back uses, nor go over the quota). The duplicate's uses move onto it as records."""
    combined = 0
    for duplicate in clash.rows.order_by("pk"):
        kept = BenefitAllowance.objects.select_for_update().get(
            customer_id=clash.survivor_id,
            benefit_id=duplicate.benefit_id,
            period_start=duplicate.period_start,
        )
        kept.used = min(kept.used + duplicate.used, kept.quota)
        kept.save(update_fields=["used"])
        BenefitUse.objects.filter(allowance=duplicate).update(allowance=kept)
        duplicate.delete()
        combined += 1
    return {"combined": combined}


@clash_policy_register("loyalty.Referral.referred")
def referrals_clash(clash: Clash) -> dict[str, int]:
    """Both customers were referred in the same program: one referral stays. The one whose
    commission was paid wins (the survivor's when both or neither were), so that a paid
    commission keeps its referral and is never paid again."""
    dropped = 0
    for duplicate in clash.rows.order_by("pk"):
        survivor = Referral.objects.get(
            referred_id=clash.survivor_id, program_id=duplicate.program_id
        )
        if duplicate.commission_entry_id and not survivor.commission_entry_id:
            survivor.delete()  # the duplicate's paid referral moves in its place
        else:
            duplicate.delete()
        dropped += 1
    return {"dropped": dropped}


@merge_preparation_register("loyalty.Referral (between the two)")
def referrals_between_the_two(survivor_id: int, merged_id: int, actor, reason: str):
    """A referral of one of the two by the other would be a referral of oneself once they are
    one customer (which a CheckConstraint refuses): it is dropped. A commission already paid
    for it stays in the ledger (its entry is never deleted); reverse it by an adjustment if
    it should not have been paid."""
    pair = [survivor_id, merged_id]
    deleted, _per_model = Referral.objects.filter(
        referrer_id__in=pair, referred_id__in=pair
    ).delete()
    return {"dropped": deleted}
