"""The customer's page shows the consents with their history and evidence."""

import pytest
from django.urls import reverse

from crm.models import Consent
from crm.services.consents import consent_record
from tests.factories import CustomerFactory


@pytest.mark.django_db
def test_page_shows_every_earlier_answer_with_its_evidence(client, rm):
    customer = CustomerFactory(owner=rm)
    for granted, evidence in ((True, "纸质表格 A-1"), (False, "客户来电撤回 B-2")):
        consent_record(
            actor=rm,
            customer=customer,
            channel=Consent.Channel.SMS,
            purpose=Consent.Purpose.MARKETING,
            is_granted=granted,
            evidence_channel=Consent.EvidenceChannel.PHONE_CALL,
            evidence=evidence,
        )
    client.force_login(rm)

    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()

    history = page[page.index("privacy-consent-history") :]
    assert "纸质表格 A-1" in history
    assert "客户来电撤回 B-2" in history
    assert history.count("Phone call (recorded)") == 2
    assert history.index("客户来电撤回 B-2") < history.index("纸质表格 A-1")  # newest first


@pytest.mark.django_db
def test_export_and_erase_buttons_only_for_those_allowed(client, rm, supervisor):
    customer = CustomerFactory(owner=rm)
    url = reverse("admin:crm_customer_change", args=[customer.pk])
    export = reverse("admin:crm_customer_privacy_export", args=[customer.pk])
    erase = reverse("admin:crm_customer_privacy_erase", args=[customer.pk])

    client.force_login(rm)
    rm_page = client.get(url).content.decode()
    client.force_login(supervisor)
    supervisor_page = client.get(url).content.decode()

    assert export not in rm_page
    assert export in supervisor_page
    assert erase not in supervisor_page
