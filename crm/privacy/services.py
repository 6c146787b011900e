"""Writes of privacy requests, erasures and the access log."""

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer
from crm.privacy.models import CustomerAccessLog, PrivacyRequest
from crm.privacy.registry import AnonymiseContext, privacy_handlers


class PrivacyRequestInvalid(ValidationError):
    pass


def customer_access_record(*, user: Any, customer_id: int, action: str) -> None:
    """One INSERT: who opened (exported, erased) which customer, and when."""
    CustomerAccessLog.objects.create(user_id=user.pk, customer_id=customer_id, action=action)


def _validated(*, received_on: date | None, reference: str) -> tuple[date, str]:
    reference = (reference or "").strip()
    errors = {}
    if received_on is None:
        errors["received_on"] = _("Give the day the customer made the request.")
    elif received_on > timezone.localdate():
        errors["received_on"] = _("The request cannot have been received in the future.")
    if not reference:
        errors["reference"] = _("Give the reason or a reference of the request.")
    if errors or received_on is None:
        raise PrivacyRequestInvalid(errors, code="invalid")
    return received_on, reference[:200]


@transaction.atomic
def customer_export_record(
    *, actor: Any, customer: Customer, received_on: date | None, reference: str
) -> PrivacyRequest:
    """Record an export as done (the file is made from the data as it is now) and the access."""
    if not actor.has_perm("crm.export_customer_data"):
        raise PermissionDenied
    received_on, reference = _validated(received_on=received_on, reference=reference)
    now = timezone.now()
    request = PrivacyRequest.objects.create(
        customer=customer,
        kind=PrivacyRequest.Kind.EXPORT,
        status=PrivacyRequest.Status.DONE,
        received_on=received_on,
        reference=reference,
        requested_by=actor,
        done_at=now,
        done_by=actor,
    )
    customer_access_record(
        user=actor, customer_id=customer.pk, action=CustomerAccessLog.Action.EXPORT
    )
    return request


@transaction.atomic
def customer_erasure_request(
    *, actor: Any, customer: Customer, received_on: date | None, reference: str
) -> PrivacyRequest:
    """The first step of an erasure: the request recorded, waiting for its confirmation."""
    if not actor.has_perm("crm.erase_customer"):
        raise PermissionDenied
    received_on, reference = _validated(received_on=received_on, reference=reference)
    return PrivacyRequest.objects.create(
        customer=customer,
        kind=PrivacyRequest.Kind.ERASURE,
        received_on=received_on,
        reference=reference,
        requested_by=actor,
    )


def customer_erasure_confirm(*, request_id: int, actor: Any) -> PrivacyRequest:
    """Make the customer anonymous in every app, in one transaction; irreversible. A second
    confirmation (a double submit, a retry) finds the request done and changes nothing."""
    if not actor.has_perm("crm.erase_customer"):
        raise PermissionDenied
    context: AnonymiseContext | None = None
    with transaction.atomic():
        request = PrivacyRequest.objects.select_for_update().get(pk=request_id)
        if request.kind != PrivacyRequest.Kind.ERASURE:
            raise PrivacyRequestInvalid(_("This is not an erasure request."), code="not_erasure")
        if request.status != PrivacyRequest.Status.PENDING:
            raise PrivacyRequestInvalid(
                _("This request is no longer waiting for confirmation."), code="not_pending"
            )
        now = timezone.now()
        context = AnonymiseContext(
            customer_id=request.customer_id, request_id=request.pk, actor=actor, now=now
        )
        summary: dict[str, int] = {}
        for handler in privacy_handlers():
            summary.update(handler.anonymise(context))
        request.status = PrivacyRequest.Status.DONE
        request.done_at, request.done_by, request.summary = now, actor, summary
        request.save(update_fields=["status", "done_at", "done_by", "summary"])
        customer_access_record(
            user=actor, customer_id=request.customer_id, action=CustomerAccessLog.Action.ERASE
        )
        files = list(context.files_to_delete)
        transaction.on_commit(lambda: _files_delete(files))
    return request


def _files_delete(files: list[Any]) -> None:
    """Evidence and attachments of an erased customer; a file already gone is no error."""
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:  # pragma: no cover - storage trouble must not undo a done erasure
            continue


@transaction.atomic
def privacy_request_cancel(*, request_id: int, actor: Any) -> PrivacyRequest:
    request = PrivacyRequest.objects.select_for_update().get(pk=request_id)
    if request.status != PrivacyRequest.Status.PENDING:
        raise PrivacyRequestInvalid(
            _("This request is no longer waiting for confirmation."), code="not_pending"
        )
    request.status = PrivacyRequest.Status.CANCELLED
    request.done_at, request.done_by = timezone.now(), actor
    request.save(update_fields=["status", "done_at", "done_by"])
    return request


def access_logs_delete_expired(*, now=None) -> int:
    """Delete access log rows older than `CRM_ACCESS_LOG_RETENTION_DAYS` in one statement."""
    days = settings.CRM_ACCESS_LOG_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _per_model = CustomerAccessLog.objects.filter(at__lt=cutoff).delete()
    return deleted
