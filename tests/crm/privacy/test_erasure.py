"""Erasure on request: two steps, a dedicated permission, personal data gone everywhere (history
tables included), what the law requires kept."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import CharField, JSONField, Sum, TextField
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone
from phonenumber_field.modelfields import PhoneNumberField

from crm.models import Consent, Customer, Transaction
from crm.privacy.export import customer_export_document
from crm.privacy.models import CustomerAccessLog, PrivacyRequest
from crm.privacy.services import customer_erasure_confirm, customer_erasure_request
from loyalty.models import GraceEvidence
from tests.crm.privacy.data import (
    EMAIL,
    EXTERNAL_ID,
    NAME,
    PHONE,
    PHONE_DIGITS,
    SECRET,
    customer_with_everything,
    ledger_totals,
)
from tests.factories import CustomerFactory
from workflows.models import Enrollment, Message, Ticket, TicketAttachment


def erase_url(customer) -> str:
    return reverse("admin:crm_customer_privacy_erase", args=[customer.pk])


def confirm_url(customer, request) -> str:
    return reverse("admin:crm_customer_privacy_erase_confirm", args=[customer.pk, request.pk])


def request_erasure(client, customer, **data):
    return client.post(
        erase_url(customer),
        {"received_on": timezone.localdate().isoformat(), "reference": "Letter 9", **data},
    )


def rows_containing(needle: str) -> dict[str, int]:
    """Every text column of every table (history, admin log and JSON included) that holds
    `needle`, with the number of rows."""
    found = {}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, PhoneNumberField):
                lookup = {f"{field.name}__contains": needle} if needle.startswith("+") else None
                queryset = model._base_manager.filter(**lookup) if lookup else None
            elif isinstance(field, CharField | TextField):
                queryset = model._base_manager.filter(**{f"{field.name}__contains": needle})
            elif isinstance(field, JSONField):
                queryset = model._base_manager.annotate(_text=Cast(field.name, TextField())).filter(
                    _text__contains=needle
                )
            else:
                continue
            if queryset is not None and (count := queryset.count()):
                found[f"{model._meta.label}.{field.name}"] = count
    return found


@pytest.fixture
def everything(rm):
    return customer_with_everything(rm, rows=2)


@pytest.mark.django_db
def test_erasure_in_two_steps_leaves_no_personal_data_anywhere(
    client, eraser, everything, django_capture_on_commit_callbacks
):
    customer = everything
    bystander = CustomerFactory(owner=customer.owner, name="旁观者", phone="+8613800000001")
    evidence_files = list(GraceEvidence.objects.values_list("file", flat=True))
    attachment_files = list(TicketAttachment.objects.values_list("file", flat=True))
    storage = GraceEvidence._meta.get_field("file").storage
    assert all(storage.exists(name) for name in evidence_files + attachment_files)
    client.force_login(eraser)

    first = request_erasure(client, customer)
    request = PrivacyRequest.objects.get()
    assert first.status_code == 302
    assert first["Location"] == confirm_url(customer, request)
    assert request.status == PrivacyRequest.Status.PENDING
    page = client.get(first["Location"])
    assert page.status_code == 200
    assert b'name="confirm"' in page.content
    assert rows_containing(NAME)  # nothing erased before the confirmation

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(first["Location"], {"confirm": "on"})

    assert done.status_code == 302
    for needle in (NAME, PHONE, PHONE_DIGITS, EMAIL, SECRET, EXTERNAL_ID):
        assert rows_containing(needle) == {}, needle
    assert not any(storage.exists(name) for name in evidence_files + attachment_files)
    bystander.refresh_from_db()
    assert (bystander.name, str(bystander.phone)) == ("旁观者", "+8613800000001")
    request.refresh_from_db()
    assert (request.status, request.done_by) == (PrivacyRequest.Status.DONE, eraser)
    assert request.done_at is not None
    assert request.summary["crm.customer"] == 1
    assert request.summary["workflows.tickets"] == 2
    assert CustomerAccessLog.objects.filter(
        customer=customer, user=eraser, action=CustomerAccessLog.Action.ERASE
    ).exists()


@pytest.mark.django_db
def test_erasure_keeps_ledger_transactions_tickets_and_consent_answers(eraser, everything):
    customer = everything
    totals = ledger_totals(customer)
    spend = Transaction.objects.filter(customer=customer).aggregate(s=Sum("amount"))["s"]
    tickets_history = Ticket.history.model.objects.filter(customer=customer).count()
    request = customer_erasure_request(
        actor=eraser, customer=customer, received_on=timezone.localdate(), reference="Letter"
    )

    customer_erasure_confirm(request_id=request.pk, actor=eraser)

    assert ledger_totals(customer) == totals
    assert totals == (760, 760)  # 2 x (500 earned - 120 redeemed)
    assert Transaction.objects.filter(customer=customer).aggregate(s=Sum("amount"))["s"] == spend
    assert spend > Decimal("0")
    assert Ticket.objects.filter(customer=customer).count() == 2
    assert Ticket.history.model.objects.filter(customer=customer).count() == tickets_history
    customer.refresh_from_db()
    assert customer.name == f"Anonymised #{customer.pk}"
    assert (str(customer.phone or ""), customer.email, customer.birth_date) == ("", "", None)
    assert customer.status == Customer.Status.CLOSED
    sms = Consent.objects.get(customer=customer, channel=Consent.Channel.SMS)
    assert (sms.is_granted, sms.withdrawn_at is not None) == (False, True)
    assert sms.granted_at is not None  # when it was given stays: the proof of what was allowed
    withdrawal = Consent.history.model.objects.filter(customer=customer).latest("history_date")
    assert (withdrawal.is_granted, withdrawal.history_user) == (False, eraser)
    assert not Message.objects.filter(
        customer=customer, state__in=[Message.State.QUEUED, Message.State.HELD]
    ).exists()
    assert not Enrollment.objects.filter(customer=customer, state=Enrollment.State.ACTIVE).exists()


@pytest.mark.django_db
def test_export_after_erasure_holds_no_personal_data(eraser, everything):
    customer = everything
    request = customer_erasure_request(
        actor=eraser, customer=customer, received_on=timezone.localdate(), reference="Letter"
    )
    customer_erasure_confirm(request_id=request.pk, actor=eraser)

    text = str(customer_export_document(customer_id=customer.pk, show_contact=True))

    for needle in (NAME, PHONE_DIGITS, EMAIL, SECRET):
        assert needle not in text


@pytest.mark.django_db
def test_a_second_confirmation_changes_nothing(eraser, rm):
    customer = CustomerFactory(owner=rm)
    request = customer_erasure_request(
        actor=eraser, customer=customer, received_on=timezone.localdate(), reference="Letter"
    )
    customer_erasure_confirm(request_id=request.pk, actor=eraser)
    customer.refresh_from_db()
    history_rows = Customer.history.model.objects.filter(id=customer.pk).count()

    with pytest.raises(ValidationError) as error:
        customer_erasure_confirm(request_id=request.pk, actor=eraser)

    assert error.value.code == "not_pending"
    assert Customer.history.model.objects.filter(id=customer.pk).count() == history_rows
    assert CustomerAccessLog.objects.filter(action=CustomerAccessLog.Action.ERASE).count() == 1


@pytest.mark.django_db
def test_supervisor_without_the_dedicated_permission_cannot_erase(client, supervisor, rm):
    customer = CustomerFactory(owner=rm, name="保留")
    client.force_login(supervisor)

    assert client.get(erase_url(customer)).status_code == 403
    assert request_erasure(client, customer).status_code == 403
    with pytest.raises(PermissionDenied):
        customer_erasure_request(
            actor=supervisor, customer=customer, received_on=timezone.localdate(), reference="x"
        )
    assert PrivacyRequest.objects.count() == 0


@pytest.mark.django_db
def test_confirmation_page_needs_the_permission_too(client, eraser, supervisor, rm):
    customer = CustomerFactory(owner=rm, name="保留")
    request = customer_erasure_request(
        actor=eraser, customer=customer, received_on=timezone.localdate(), reference="x"
    )
    client.force_login(supervisor)

    response = client.post(confirm_url(customer, request), {"confirm": "on"})

    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.name == "保留"


@pytest.mark.django_db
def test_eraser_of_another_team_gets_404(client, eraser, foreign_rm):
    theirs = CustomerFactory(owner=foreign_rm, name="保留")
    client.force_login(eraser)

    assert request_erasure(client, theirs).status_code == 404
    assert PrivacyRequest.objects.count() == 0


@pytest.mark.django_db
def test_confirming_without_ticking_the_box_erases_nothing(client, eraser, rm):
    customer = CustomerFactory(owner=rm, name="保留")
    request_erasure(client, customer)  # not logged in: refused
    client.force_login(eraser)
    request_erasure(client, customer)
    request = PrivacyRequest.objects.get()

    response = client.post(confirm_url(customer, request), {})

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.name == "保留"
    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.PENDING


@pytest.mark.django_db
def test_a_pending_request_can_be_cancelled(client, eraser, rm):
    customer = CustomerFactory(owner=rm, name="保留")
    client.force_login(eraser)
    request_erasure(client, customer)
    request = PrivacyRequest.objects.get()

    client.post(confirm_url(customer, request), {"cancel": "1"})

    request.refresh_from_db()
    assert request.status == PrivacyRequest.Status.CANCELLED
    customer.refresh_from_db()
    assert customer.name == "保留"
    assert client.post(confirm_url(customer, request), {"confirm": "on"}).status_code == 302
    customer.refresh_from_db()
    assert customer.name == "保留"


@pytest.mark.django_db
def test_staff_alerts_about_a_kept_ticket_still_go_to_the_staff(eraser, rm):
    from workflows.models.outbox import Channel, Purpose

    customer = CustomerFactory(owner=rm)
    alert = Message.objects.create(
        key="staff:alert",
        customer=customer,
        channel=Channel.EMAIL,
        purpose=Purpose.STAFF,
        occasion="ticket:1:response-warning",
        recipient="agent@bank.example",
        body=f"Ticket of {customer.name}",
    )
    to_customer = Message.objects.create(
        key="marketing:1",
        customer=customer,
        channel=Channel.SMS,
        purpose=Purpose.MARKETING,
        occasion="campaign:1",
        recipient=str(customer.phone),
    )
    request = customer_erasure_request(
        actor=eraser, customer=customer, received_on=timezone.localdate(), reference="x"
    )

    customer_erasure_confirm(request_id=request.pk, actor=eraser)

    alert.refresh_from_db()
    to_customer.refresh_from_db()
    assert (alert.state, alert.recipient, alert.body) == (
        Message.State.QUEUED,
        "agent@bank.example",
        "",
    )
    assert (to_customer.state, to_customer.refusal, to_customer.recipient) == (
        Message.State.REFUSED,
        Message.Refusal.NO_ADDRESS,
        "",
    )
