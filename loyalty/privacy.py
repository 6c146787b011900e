"""loyalty's part of a customer's data export and erasure (crm.privacy), registered from
LoyaltyConfig.ready().

Erasure keeps the ledger whole (entries are append-only; the balance is their sum), the
memberships and their tier history, warnings, benefit allowances, redemptions, referrals and
staff adjustments with their approvals (the accounting and internal-control record). What goes:
the free text of grace period requests (explanation, decision comment, also in their history)
and their evidence files (medical certificates and the like: rows and files), benefit use
notes and unusual-spend review comments.
"""

from django.db.models import Q

from crm.privacy.registry import (
    AnonymiseContext,
    PrivacyHandler,
    Sections,
    register_privacy_handler,
)
from loyalty.models import (
    BenefitAllowance,
    BenefitUse,
    DowngradeWarning,
    GraceEvidence,
    GracePeriod,
    Membership,
    MembershipChange,
    PointsAccount,
    PointsAdjustment,
    PointsEntry,
    Redemption,
    Referral,
    StabilityFlag,
)


def loyalty_sections(customer_id: int) -> Sections:
    of_customer = {"customer_id": customer_id}
    of_account = {"account__customer_id": customer_id}
    yield (
        "memberships",
        Membership.objects.filter(**of_customer)
        .order_by("program__code")
        .values("program__code", "tier__rank", "tier__name", "since", "months_under_ratio"),
    )
    yield (
        "tier_history",
        MembershipChange.objects.filter(**of_customer)
        .order_by("created_at", "pk")
        .values(
            "program__code",
            "from_tier__name",
            "to_tier__name",
            "kind",
            "evaluated_on",
            "reason",
            "created_at",
        ),
    )
    yield (
        "downgrade_warnings",
        DowngradeWarning.objects.filter(**of_customer)
        .order_by("opened_on", "pk")
        .values("program__code", "tier__name", "opened_on", "deadline", "status", "closed_on"),
    )
    yield (
        "points_accounts",
        PointsAccount.objects.filter(**of_customer)
        .order_by("program__code")
        .values("program__code", "balance", "created_at"),
    )
    yield (
        "points_ledger",
        PointsEntry.objects.filter(**of_account)
        .order_by("created_at", "pk")
        .values(
            "id",
            "account__program__code",
            "kind",
            "points",
            "occurred_on",
            "expires_on",
            "transaction_id",
            "reverses_id",
            "note",
            "created_at",
        ),
    )
    yield (
        "points_adjustments",
        PointsAdjustment.objects.filter(**of_account)
        .order_by("requested_at", "pk")
        .values("points", "reason", "status", "requested_at", "decided_at"),
    )
    yield (
        "grace_requests",
        GracePeriod.objects.filter(**of_customer)
        .order_by("requested_at", "pk")
        .values(
            "id",
            "program__code",
            "months",
            "reason",
            "explanation",
            "status",
            "requested_at",
            "decided_at",
            "decision_comment",
            "starts_on",
            "ends_on",
        ),
    )
    yield (
        "grace_evidence",
        GraceEvidence.objects.filter(grace_period__customer_id=customer_id)
        .order_by("uploaded_at", "pk")
        .values("grace_period_id", "original_name", "content_type", "size", "uploaded_at"),
    )
    yield (
        "benefits",
        BenefitAllowance.objects.filter(**of_customer)
        .order_by("period_start", "pk")
        .values("benefit__code", "benefit__name", "period_start", "period_end", "quota", "used"),
    )
    yield (
        "benefit_uses",
        BenefitUse.objects.filter(allowance__customer_id=customer_id)
        .order_by("used_at", "pk")
        .values("allowance__benefit__code", "note", "used_at"),
    )
    yield (
        "redemptions",
        Redemption.objects.filter(**of_account)
        .order_by("created_at", "pk")
        .values("reward__name", "points", "status", "created_at", "cancelled_at"),
    )
    yield (
        "referrals",
        Referral.objects.filter(Q(referrer_id=customer_id) | Q(referred_id=customer_id))
        .order_by("created_at", "pk")
        .values("program__code", "referrer_id", "referred_id", "created_at"),
    )
    yield (
        "stability_flags",
        StabilityFlag.objects.filter(**of_customer)
        .order_by("flagged_on", "pk")
        .values("transaction_id", "amount", "monthly_median", "flagged_on", "status", "comment"),
    )


def loyalty_anonymise(context: AnonymiseContext) -> dict[str, int]:
    customer_id = context.customer_id
    of_customer = Q(customer_id=customer_id)
    counts = {
        "loyalty.grace_requests": GracePeriod.objects.filter(of_customer).update(
            explanation="", decision_comment=""
        ),
        "loyalty.grace_request_history": GracePeriod.history.model.objects.filter(  # type: ignore[attr-defined]
            of_customer
        ).update(explanation="", decision_comment=""),
    }
    counts["loyalty.grace_evidence"] = context.delete_with_files(
        GraceEvidence.objects.filter(grace_period__customer_id=customer_id)
    )
    counts["loyalty.benefit_uses"] = (
        BenefitUse.objects.filter(allowance__customer_id=customer_id)
        .exclude(note="")
        .update(note="")
    )
    counts["loyalty.stability_flags"] = (
        StabilityFlag.objects.filter(of_customer).exclude(comment="").update(comment="")
    )
    return counts


def register_loyalty_privacy_handler() -> None:
    register_privacy_handler(
        PrivacyHandler(
            key="loyalty", sections=loyalty_sections, anonymise=loyalty_anonymise, order=20
        )
    )
