"""Staff adjustments of a customer's points, with a reason; large ones need a second person.

An adjustment of at most LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD points (either sign) is posted at
once; a larger one waits, PENDING, until someone with `approve_pointsadjustment` who is not the
requester approves it (then it is posted) or rejects it with a note. Four eyes are enforced
here and by a CheckConstraint. A decision is a guarded `UPDATE ... WHERE status = 'pending'`:
two approvers clicking at once post the entry once, and the entry's key (`adjustment:{id}`)
would refuse a second anyway. A removal never takes the balance below zero.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.models import PointsAdjustment, PointsEntry, Program
from loyalty.services import ledger

Status = PointsAdjustment.Status


def adjustment_needs_approval(points: int) -> bool:
    return abs(points) > settings.LOYALTY_ADJUSTMENT_APPROVAL_THRESHOLD


@transaction.atomic
def adjustment_request(
    *, actor: AbstractUser, customer: Customer, program: Program, points: int, reason: str
) -> PointsAdjustment:
    """File an adjustment; small ones are applied at once (InsufficientPoints if a removal
    would go below zero: then nothing is saved), large ones wait for approval."""
    if not actor.has_perm("loyalty.add_pointsadjustment"):
        raise PermissionDenied
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = ValidationError(_("Say why the points change."), code="reason_required")
    if not points:
        errors["points"] = ValidationError(_("Add or remove at least 1 point."), code="points_zero")
    if not Customer.objects.filter(customer_visibility_q(actor), pk=customer.pk).exists():
        errors["customer"] = ValidationError(
            _("You may not adjust this customer's points."), code="customer_not_visible"
        )
    if errors:
        raise ValidationError(errors)
    account = ledger.account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    adjustment = PointsAdjustment.objects.create(
        account=account,
        points=points,
        reason=reason,
        requested_by=actor,  # type: ignore[misc]
    )
    if not adjustment_needs_approval(points):
        _apply(adjustment, decided_by=None, program=program)
    return adjustment


@transaction.atomic
def adjustment_approve(
    *, adjustment_id: int, approver: AbstractUser, note: str = ""
) -> PointsAdjustment:
    """Apply a pending adjustment; not one's own, and only once."""
    adjustment = _decidable(adjustment_id, approver)
    _apply(adjustment, decided_by=approver, note=(note or "").strip())
    return adjustment


@transaction.atomic
def adjustment_reject(*, adjustment_id: int, approver: AbstractUser, note: str) -> PointsAdjustment:
    """Refuse a pending adjustment, saying why; nothing is posted."""
    note = (note or "").strip()
    if not note:
        raise ValidationError(
            {"note": _("Say why the adjustment is rejected.")}, code="note_required"
        )
    adjustment = _decidable(adjustment_id, approver)
    _decide(adjustment, Status.REJECTED, decided_by=approver, note=note)
    return adjustment


def _decidable(adjustment_id: int, approver: AbstractUser) -> PointsAdjustment:
    """The adjustment, if the approver may decide on it (a customer they may see: else
    DoesNotExist, a 404), and it is not their own."""
    if not approver.has_perm("loyalty.approve_pointsadjustment"):
        raise PermissionDenied
    adjustment = (
        PointsAdjustment.objects.filter(
            customer_visibility_q(approver, prefix="account__customer__")
        )
        .select_related("account__program")
        .get(pk=adjustment_id)
    )
    if adjustment.requested_by_id == approver.pk:
        raise ValidationError(
            _("You cannot decide on your own adjustment: another person must."), code="own_request"
        )
    return adjustment


def _decide(adjustment: PointsAdjustment, status: str, *, decided_by, note: str = "") -> None:
    """Pending -> `status`, guarded: whoever comes second finds it decided and changes nothing."""
    now = timezone.now()
    decided = PointsAdjustment.objects.filter(pk=adjustment.pk, status=Status.PENDING).update(
        status=status,
        decided_by=decided_by,
        decided_at=now,
        decision_note=note,
    )
    if not decided:
        raise ValidationError(
            _("This adjustment was already decided."), code="adjustment_not_pending"
        )
    adjustment.status, adjustment.decided_by, adjustment.decided_at = status, decided_by, now
    adjustment.decision_note = note


def _apply(
    adjustment: PointsAdjustment, *, decided_by, note: str = "", program: Program | None = None
) -> None:
    _decide(adjustment, Status.APPLIED, decided_by=decided_by, note=note)
    account = adjustment.account
    program = program or account.program
    posting: dict[str, Any] = {
        "account": account,
        "kind": PointsEntry.Kind.ADJUST,
        "key": f"adjustment:{adjustment.pk}",
        "note": adjustment.reason,
        # Whose action posted it: the requester's for a small one, the approver's otherwise.
        "created_by": decided_by or adjustment.requested_by,
        "details": {"adjustment": adjustment.pk, "approved_by": getattr(decided_by, "pk", None)},
    }
    if adjustment.points > 0:
        entry = ledger.credit(
            points=adjustment.points,
            expires_on=ledger.expiry_for(program, timezone.localdate()),
            **posting,
        ).entry
    else:
        entry = ledger.debit(points=-adjustment.points, **posting).entry
    adjustment.entry = entry
    adjustment.save(update_fields=["entry"])
