"""Tier benefits: this period's allowances granted to every holder, and uses within the quota.

`benefits_grant` runs after each program's nightly evaluation: one `INSERT ... SELECT ...
ON CONFLICT DO NOTHING` per kind of period (month, quarter, year) gives every member at a
benefit's tier or above this period's allowance; a second run inserts nothing. A customer
upgraded during the day has no row yet: `benefit_use` grants theirs on first use.

A use is claimed by its unique key, then counted with a guarded
`UPDATE ... SET used = used + 1 WHERE used < quota`: concurrent uses never go over the quota,
and a retry with the same key finds its use and counts nothing.
"""

import logging
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.catalogue import period_bounds
from loyalty.models import Benefit, BenefitAllowance, BenefitUse, Membership, Program, Tier
from loyalty.services.ledger import KeyReused

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH: int = BenefitUse._meta.get_field("note").max_length or 200


class OverQuota(ValidationError):
    def __init__(self) -> None:
        super().__init__(_("This benefit's uses for the period are all taken."), code="over_quota")


class BenefitNotHeld(ValidationError):
    def __init__(self) -> None:
        super().__init__(
            _("The customer does not hold this benefit at their current tier."),
            code="benefit_not_held",
        )


class BenefitNotCountable(ValidationError):
    def __init__(self) -> None:
        super().__init__(
            _("This benefit is a standing discount: there is nothing to use."),
            code="benefit_not_countable",
        )


@transaction.atomic
def benefits_grant(*, program: Program, as_of: date) -> int:
    """Grant the period holding `as_of` to every member holding each counted benefit of the
    program; the number of allowances added. Set-based: one statement per kind of period."""
    periods = sorted(
        set(
            Benefit.objects.filter(
                tier__program=program, is_active=True, quota__isnull=False
            ).values_list("period", flat=True)
        )
    )
    allowances = BenefitAllowance._meta.db_table
    memberships = Membership._meta.db_table
    tiers = Tier._meta.db_table
    benefits = Benefit._meta.db_table
    ops = connection.ops
    granted_at = ops.adapt_datetimefield_value(timezone.now())
    added = 0
    with connection.cursor() as cursor:
        for period in periods:
            start, end = period_bounds(period, as_of)
            # The WHERE also keeps SQLite from reading ON CONFLICT as part of a join.
            cursor.execute(
                f"""
                INSERT INTO {allowances}
                    (customer_id, benefit_id, period_start, period_end, quota, used, granted_at)
                SELECT m.customer_id, b.id, %s, %s, b.quota, 0, %s
                FROM {memberships} m
                JOIN {tiers} mt ON mt.id = m.tier_id
                JOIN {tiers} bt ON bt.program_id = m.program_id AND bt.rank <= mt.rank
                JOIN {benefits} b ON b.tier_id = bt.id
                WHERE m.program_id = %s AND b.is_active = %s AND b.quota IS NOT NULL
                  AND b.period = %s
                ON CONFLICT (customer_id, benefit_id, period_start) DO NOTHING
                """,  # noqa: S608
                [
                    ops.adapt_datefield_value(start),
                    ops.adapt_datefield_value(end),
                    granted_at,
                    program.pk,
                    True,
                    period,
                ],
            )
            added += max(cursor.rowcount, 0)
    if added:
        logger.info("program %s: %s benefit allowance(s) granted (%s)", program.pk, added, as_of)
    return added


@transaction.atomic
def benefit_use(
    *, actor: Any, customer: Customer, benefit: Benefit, key: str, note: str = ""
) -> BenefitUse:
    """Use a counted benefit once for a customer who holds it now, within this period's quota.

    Idempotent on `key`: the same key again returns the first use and counts nothing; the same
    key for another customer or benefit is refused.
    """
    if not actor.has_perm("loyalty.add_benefituse"):
        raise PermissionDenied
    if not Customer.objects.filter(customer_visibility_q(actor), pk=customer.pk).exists():
        raise ValidationError(_("You cannot act for this customer."), code="not_visible")
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ValidationError(
            {"note": _("At most %(max)s characters.") % {"max": NOTE_MAX_LENGTH}},
            code="too_long",
        )
    existing = _use_for_key(key, customer_id=customer.pk, benefit_id=benefit.pk)
    if existing is not None:
        return existing

    benefit = Benefit.objects.select_related("tier__program").get(pk=benefit.pk)
    if benefit.quota is None:
        raise BenefitNotCountable()
    rank = (
        Membership.objects.filter(customer_id=customer.pk, program_id=benefit.tier.program_id)
        .values_list("tier__rank", flat=True)
        .first()
    )
    if (
        not benefit.is_active
        or not benefit.tier.program.is_active
        or rank is None
        or rank < benefit.tier.rank
    ):
        raise BenefitNotHeld()

    allowance = _allowance_get_or_grant(customer_id=customer.pk, benefit=benefit)
    try:
        with transaction.atomic():
            # The key first: a concurrent retry waits on the unique index, then finds this use.
            use = BenefitUse.objects.create(
                allowance=allowance, key=key, note=note, used_by_id=actor.pk
            )
    except IntegrityError:
        existing = _use_for_key(key, customer_id=customer.pk, benefit_id=benefit.pk)
        if existing is None:
            raise
        return existing
    counted = BenefitAllowance.objects.filter(pk=allowance.pk, used__lt=F("quota")).update(
        used=F("used") + 1
    )
    if not counted:
        raise OverQuota()  # the use above rolls back with the transaction
    logger.info(
        "benefit %s used for customer %s by user %s (use %s)",
        benefit.pk,
        customer.pk,
        actor.pk,
        use.pk,
    )
    return use


def _use_for_key(key: str, *, customer_id: int, benefit_id: int) -> BenefitUse | None:
    use = BenefitUse.objects.select_related("allowance").filter(key=key).first()
    if use is None:
        return None
    if use.allowance.customer_id != customer_id or use.allowance.benefit_id != benefit_id:
        raise KeyReused()
    return use


def _allowance_get_or_grant(*, customer_id: int, benefit: Benefit) -> BenefitAllowance:
    """This period's allowance; granted now if the nightly grant has not (upgraded today)."""
    if benefit.quota is None:  # a standing discount has no allowance; the caller checks
        raise BenefitNotCountable()
    start, end = period_bounds(benefit.period, timezone.localdate())
    lookup = {"customer_id": customer_id, "benefit_id": benefit.pk, "period_start": start}
    allowance = BenefitAllowance.objects.filter(**lookup).first()
    if allowance is not None:
        return allowance
    # ON CONFLICT DO NOTHING: a concurrent first use, or the nightly grant, may insert it too.
    BenefitAllowance.objects.bulk_create(
        [BenefitAllowance(**lookup, period_end=end, quota=benefit.quota)], ignore_conflicts=True
    )
    return BenefitAllowance.objects.get(**lookup)
