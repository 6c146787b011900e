"""Consent evidence: when, through which channel or form, and who recorded the answer."""

import pytest
from django.urls import reverse

from crm.models import Consent
from crm.services.consents import ConsentInvalid, consent_record
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_service_records_who_when_and_through_what(rm):
    customer = CustomerFactory(owner=rm)

    consent = consent_record(
        actor=rm,
        customer=customer,
        channel="sms",
        purpose="marketing",
        is_granted=True,
        evidence_channel="paper_form",
        evidence="Form 12, Pudong branch",
    )

    assert (consent.recorded_by, consent.evidence_channel) == (rm, "paper_form")
    assert consent.granted_at is not None
    assert consent.recorded_at is not None
    granted_at = consent.granted_at

    withdrawn = consent_record(
        actor=rm,
        customer=customer,
        channel="sms",
        purpose="marketing",
        is_granted=False,
        evidence_channel="sms_reply",
    )
    assert withdrawn.pk == consent.pk
    assert (withdrawn.granted_at, withdrawn.withdrawn_at is not None) == (granted_at, True)
    # simple-history keeps the earlier answer and its evidence.
    assert [
        (row.is_granted, row.evidence_channel, row.recorded_by_id)
        for row in withdrawn.history.order_by("history_id")
    ] == [(True, "paper_form", rm.pk), (False, "sms_reply", rm.pk)]


def test_an_answer_without_its_evidence_channel_changes_nothing(rm):
    customer = CustomerFactory(owner=rm)
    with pytest.raises(ConsentInvalid):
        consent_record(
            actor=rm,
            customer=customer,
            channel="sms",
            purpose="marketing",
            is_granted=True,
            evidence_channel="",
        )
    assert not Consent.objects.exists()


def _customer_form(client, customer, consents: list[dict]) -> dict:
    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk]))
    data = {
        "kind": customer.kind,
        "name": customer.name,
        "phone": str(customer.phone),
        "email": customer.email,
        "birth_date": "1988-05-17",
        "status": customer.status,
        "owner": customer.owner_id,
        "team": customer.team_id,
    }
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        rows = consents if formset.formset.model is Consent else []
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for index, row in enumerate(rows):
            data.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
    return data


def test_the_customer_admin_stamps_who_recorded_a_consent(client, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)
    row = {"channel": "email", "purpose": "marketing", "is_granted": "on"}

    refused = client.post(
        reverse("admin:crm_customer_change", args=[customer.pk]),
        _customer_form(client, customer, [row]),
    )
    assert refused.status_code == 200  # the evidence channel is missing
    assert not Consent.objects.exists()

    row["evidence_channel"] = "web_form"
    response = client.post(
        reverse("admin:crm_customer_change", args=[customer.pk]),
        _customer_form(client, customer, [row]),
    )

    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.recorded_by, consent.evidence_channel, consent.is_granted) == (
        rm,
        "web_form",
        True,
    )
    assert consent.granted_at is not None
