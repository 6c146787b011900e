"""Grace periods: an RM files a request with evidence, a supervisor of the team decides, and an
approved period ends by itself (`grace_periods_end`, run daily by beat).

Four eyes: nobody decides on their own request (also a CheckConstraint). While an approved
period runs (starts_on <= day < ends_on) the evaluation does not move the customer down.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import IO, Any
from uuid import uuid4

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_update_with_history

from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.models import GraceEvidence, GracePeriod, Program
from loyalty.selectors import grace_period_open_exists, user_may_decide_grace_period

logger = logging.getLogger(__name__)

END_CHUNK_SIZE = 1000


@dataclass(frozen=True)
class EvidenceType:
    content_type: str
    extension: str
    extensions: tuple[str, ...]
    signature: bytes


# Recognised by their first bytes: a name or a browser's content type proves nothing.
EVIDENCE_TYPES = (
    EvidenceType("application/pdf", "pdf", ("pdf",), b"%PDF-"),
    EvidenceType("image/jpeg", "jpg", ("jpg", "jpeg"), b"\xff\xd8\xff"),
    EvidenceType("image/png", "png", ("png",), b"\x89PNG\r\n\x1a\n"),
)
_SIGNATURE_BYTES = max(len(kind.signature) for kind in EVIDENCE_TYPES)


# --- Request ----------------------------------------------------------------------------------


@transaction.atomic
def grace_period_request(
    *,
    customer: Customer,
    program: Program,
    months: int,
    reason: str,
    explanation: str,
    files: Sequence[Any],
    requested_by: AbstractUser,
) -> GracePeriod:
    """File a request with its evidence files: all of it, or nothing and every error at once."""
    if not requested_by.has_perm("loyalty.add_graceperiod"):
        raise PermissionDenied
    explanation = (explanation or "").strip()
    errors: dict[str, list[ValidationError]] = {}

    def refuse(field: str, message: Any, code: str, params: dict | None = None) -> None:
        errors.setdefault(field, []).append(ValidationError(message, code=code, params=params))

    # The customer's row is locked so that two requests for them cannot both pass the check
    # for an open period below.
    visible = list(
        Customer.objects.select_for_update()
        .filter(customer_visibility_q(requested_by), pk=customer.pk)
        .values_list("pk", flat=True)
    )
    if not visible:
        refuse("customer", _("You cannot file a request for this customer."), "not_visible")
    if not program.is_active:
        refuse("program", _("This program is not active."), "program_inactive")
    if not (isinstance(months, int) and GracePeriod.MIN_MONTHS <= months <= GracePeriod.MAX_MONTHS):
        refuse(
            "months",
            _("A grace period lasts from %(min)s to %(max)s months."),
            "invalid_months",
            {"min": GracePeriod.MIN_MONTHS, "max": GracePeriod.MAX_MONTHS},
        )
    if reason not in GracePeriod.Reason.values:
        refuse("reason", _("Choose a reason from the list."), "invalid_reason")
    elif reason == GracePeriod.Reason.OTHER and not explanation:
        refuse("explanation", _("Explain the reason when it is “other”."), "explanation_required")
    if visible and grace_period_open_exists(customer_id=customer.pk, program_id=program.pk):
        refuse(
            NON_FIELD_ERRORS,
            _("This customer already has a pending or running grace period in this program."),
            "already_open",
        )
    for message, code, params in _evidence_problems(files):
        refuse("files", message, code, params)
    if errors:
        raise ValidationError(errors)

    grace_period = GracePeriod(
        customer=customer,
        program=program,
        months=months,
        reason=reason,
        explanation=explanation,
        requested_by_id=requested_by.pk,
    )
    grace_period._history_user = requested_by  # type: ignore[attr-defined]
    grace_period.save()
    typed = [(file, kind) for file in files if (kind := _evidence_type(file)) is not None]
    _evidence_store(grace_period, typed_files=typed, uploaded_by=requested_by)
    logger.info(
        "grace period %s requested for customer %s by user %s",
        grace_period.pk,
        customer.pk,
        requested_by.pk,
    )
    return grace_period


def _evidence_problems(files: Sequence[Any]) -> list[tuple[Any, str, dict | None]]:
    max_files = settings.LOYALTY_GRACE_MAX_FILES
    max_bytes = settings.LOYALTY_GRACE_MAX_FILE_BYTES
    if not files:
        return [(_("Attach at least one evidence file."), "no_files", None)]
    if len(files) > max_files:
        return [
            (
                _("Attach at most %(max)s evidence files."),
                "too_many_files",
                {"max": max_files},
            )
        ]
    problems: list[tuple[Any, str, dict | None]] = []
    for file in files:
        name = _base_name(file)
        if not file.size:
            problems.append((_("%(name)s is empty."), "empty_file", {"name": name}))
            continue
        if file.size > max_bytes:
            problems.append(
                (
                    _("%(name)s is larger than %(limit)s."),
                    "file_too_large",
                    {"name": name, "limit": filesizeformat(max_bytes)},
                )
            )
            continue
        kind = _evidence_type(file)
        if kind is None:
            problems.append(
                (_("%(name)s is not a PDF, JPEG or PNG file."), "file_type", {"name": name})
            )
        elif _extension(name) not in kind.extensions:
            problems.append(
                (
                    _("%(name)s: its content does not match its name."),
                    "file_type_mismatch",
                    {"name": name},
                )
            )
    return problems


def _evidence_type(file: Any) -> EvidenceType | None:
    head = _read_head(file)
    return next((kind for kind in EVIDENCE_TYPES if head.startswith(kind.signature)), None)


def _read_head(file: Any) -> bytes:
    file.seek(0)
    head = file.read(_SIGNATURE_BYTES)
    file.seek(0)
    return head if isinstance(head, bytes) else head.encode()


def _base_name(file: Any) -> str:
    return (file.name or "").replace("\\", "/").rsplit("/", 1)[-1][-255:]


def _extension(name: str) -> str:
    return name.lower().rsplit(".", 1)[-1] if "." in name else ""


def _evidence_store(
    grace_period: GracePeriod,
    *,
    typed_files: Sequence[tuple[Any, EvidenceType]],
    uploaded_by: AbstractUser,
) -> None:
    """Store the files under names the server makes up, then their rows in one INSERT."""
    rows: list[GraceEvidence] = []
    storage: Storage | None = None
    try:
        for file, kind in typed_files:
            evidence = GraceEvidence(
                grace_period=grace_period,
                original_name=_base_name(file),
                content_type=kind.content_type,
                size=file.size,
                uploaded_by_id=uploaded_by.pk,
            )
            file.seek(0)
            evidence.file.save(f"{uuid4().hex}.{kind.extension}", File(_binary(file)), save=False)
            storage = evidence.file.storage
            rows.append(evidence)
        GraceEvidence.objects.bulk_create(rows)
    except Exception:
        # Storage is not transactional: files of a request that is rolled back go too.
        for evidence in rows:
            if storage is not None and evidence.file.name:
                storage.delete(evidence.file.name)
        raise


def _binary(file: Any) -> IO[bytes]:
    inner = getattr(file, "file", file)
    inner.seek(0)
    return inner


# --- Decision ---------------------------------------------------------------------------------


def grace_period_approve(
    *, grace_period: GracePeriod, decided_by: AbstractUser, comment: str = ""
) -> GracePeriod:
    """Approve a pending request: the freeze starts today and ends `months` later."""
    return _grace_period_decide(
        grace_period=grace_period,
        decided_by=decided_by,
        comment=comment,
        status=GracePeriod.Status.APPROVED,
    )


def grace_period_reject(
    *, grace_period: GracePeriod, decided_by: AbstractUser, comment: str
) -> GracePeriod:
    """Reject a pending request; the RM reads why in the comment, which is required."""
    return _grace_period_decide(
        grace_period=grace_period,
        decided_by=decided_by,
        comment=comment,
        status=GracePeriod.Status.REJECTED,
    )


@transaction.atomic
def _grace_period_decide(
    *, grace_period: GracePeriod, decided_by: AbstractUser, comment: str, status: str
) -> GracePeriod:
    # The lock comes before the checks: of two decisions at once, the second sees the first.
    locked = (
        GracePeriod.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=grace_period.pk)
    )
    comment = (comment or "").strip()
    if locked.status != GracePeriod.Status.PENDING:
        raise ValidationError(
            _("Only a request waiting for a decision can be approved or rejected."),
            code="not_pending",
        )
    if locked.requested_by_id == decided_by.pk:
        raise ValidationError(_("You cannot decide on your own request."), code="own_request")
    if not user_may_decide_grace_period(user=decided_by, grace_period=locked):
        raise ValidationError(
            _("Only a supervisor of the customer's team can decide on this request."),
            code="not_supervisor",
        )
    if status == GracePeriod.Status.REJECTED and not comment:
        raise ValidationError(
            _("Say why the request is rejected: the comment is required."),
            code="comment_required",
        )
    locked.status = status
    locked.decided_by_id = decided_by.pk
    locked.decided_at = timezone.now()
    locked.decision_comment = comment
    update_fields = ["status", "decided_by", "decided_at", "decision_comment"]
    if status == GracePeriod.Status.APPROVED:
        locked.starts_on = timezone.localdate()
        locked.ends_on = locked.starts_on + relativedelta(months=locked.months)
        update_fields += ["starts_on", "ends_on"]
    locked._history_user = decided_by  # type: ignore[attr-defined]
    locked.save(update_fields=update_fields)
    logger.info("grace period %s %s by user %s", locked.pk, status, decided_by.pk)
    return locked


# --- End --------------------------------------------------------------------------------------


def grace_periods_end(*, today: date) -> int:
    """Mark approved periods whose end has come (ends_on <= today) as ended; returns how many.

    A few statements per chunk of periods, each chunk its own transaction, with a history row
    per period; a second run finds nothing left to end.
    """
    ended = 0
    now = timezone.now()
    while True:
        with transaction.atomic():
            batch = list(
                GracePeriod.objects.select_for_update()
                .filter(status=GracePeriod.Status.APPROVED, ends_on__lte=today)
                .order_by("pk")[:END_CHUNK_SIZE]
            )
            for grace_period in batch:
                grace_period.status = GracePeriod.Status.ENDED
            if batch:
                ended += bulk_update_with_history(
                    batch,
                    GracePeriod,
                    ["status"],
                    default_change_reason="ended: its last day has passed",
                    default_date=now,
                )
        if len(batch) < END_CHUNK_SIZE:
            break
    if ended:
        logger.info("%s grace period(s) ended as of %s", ended, today.isoformat())
    return ended
