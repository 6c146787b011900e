"""Data export on request: a supervisor's download of everything held about one customer."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.privacy.export import customer_export_document
from crm.privacy.models import CustomerAccessLog, PrivacyRequest
from tests.crm.privacy.conftest import grant, queries_of
from tests.crm.privacy.data import EMAIL, NAME, PHONE, SECRET, customer_with_everything
from tests.factories import CustomerFactory, UserFactory

# Sections that must hold at least one row of the demo customer, one per app's table.
EXPECTED_SECTIONS = {
    "crm.customer",
    "crm.customer_history",
    "crm.source_records",
    "crm.transactions",
    "crm.balances",
    "crm.holdings",
    "crm.credit_events",
    "crm.interactions",
    "crm.preferences",
    "crm.preference_history",
    "crm.tags",
    "crm.consents",
    "crm.consent_history",
    "crm.privacy_requests",
    "loyalty.memberships",
    "loyalty.tier_history",
    "loyalty.points_accounts",
    "loyalty.points_ledger",
    "loyalty.grace_requests",
    "loyalty.grace_evidence",
    "loyalty.benefits",
    "loyalty.benefit_uses",
    "loyalty.referrals",
    "loyalty.stability_flags",
    "workflows.messages",
    "workflows.sensitive_events",
    "workflows.feedback_invitations",
    "workflows.feedback_responses",
    "workflows.feedback_answers",
    "workflows.tickets",
    "workflows.ticket_notes",
    "workflows.ticket_attachments",
    "workflows.care_sequence_enrolments",
    "workflows.experience_officer",
}


def export_url(customer) -> str:
    return reverse("admin:crm_customer_privacy_export", args=[customer.pk])


def post_export(client, customer, **data):
    return client.post(
        export_url(customer),
        {"received_on": timezone.localdate().isoformat(), "reference": "Letter 2026-17", **data},
    )


def body_of(response) -> dict:
    return json.loads(b"".join(response.streaming_content).decode())


@pytest.mark.django_db
def test_supervisor_downloads_everything_held_about_the_customer(client, supervisor, rm):
    customer = customer_with_everything(rm)
    client.force_login(supervisor)

    response = post_export(client, customer)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert NAME not in response["Content-Disposition"]
    document = body_of(response)
    sections = document["sections"]
    empty = {name for name in EXPECTED_SECTIONS if not sections.get(name)}
    assert empty == set()
    assert sections["crm.customer"][0]["name"] == NAME
    assert sections["crm.customer"][0]["phone"] == PHONE
    assert sections["crm.customer"][0]["email"] == EMAIL
    assert sections["loyalty.points_ledger"][0]["points"] == 500
    assert sections["workflows.tickets"][0]["subject"].startswith(NAME)
    assert document["contact_masked"] is False


@pytest.mark.django_db
def test_export_records_the_request_and_the_access(client, supervisor, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(supervisor)

    response = post_export(client, customer, reference="Ticket 42")
    body_of(response)

    request = PrivacyRequest.objects.get()
    assert (request.customer, request.kind, request.status) == (
        customer,
        PrivacyRequest.Kind.EXPORT,
        PrivacyRequest.Status.DONE,
    )
    assert (request.requested_by, request.done_by, request.reference) == (
        supervisor,
        supervisor,
        "Ticket 42",
    )
    assert request.received_on == timezone.localdate()
    assert request.done_at is not None
    assert list(CustomerAccessLog.objects.values_list("user", "customer", "action")) == [
        (supervisor.pk, customer.pk, CustomerAccessLog.Action.EXPORT)
    ]


@pytest.mark.django_db
def test_export_page_get_shows_the_form_and_records_nothing(client, supervisor, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(supervisor)

    response = client.get(export_url(customer))

    assert response.status_code == 200
    assert b'name="reference"' in response.content
    assert PrivacyRequest.objects.count() == 0


@pytest.mark.django_db
def test_export_without_csrf_token_is_refused(supervisor, rm):
    from django.test import Client

    customer = CustomerFactory(owner=rm)
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)

    response = post_export(client, customer)

    assert response.status_code == 403
    assert PrivacyRequest.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("received_on", "reference"),
    [("", "Letter"), ("future", "Letter"), ("2026-01-01", "")],
)
def test_bad_request_details_change_nothing(client, supervisor, rm, received_on, reference):
    if received_on == "future":
        received_on = (timezone.localdate() + timedelta(days=2)).isoformat()
    customer = CustomerFactory(owner=rm)
    client.force_login(supervisor)

    response = client.post(
        export_url(customer), {"received_on": received_on, "reference": reference}
    )

    assert response.status_code == 200  # the form again, with its error
    assert b"errorlist" in response.content
    assert PrivacyRequest.objects.count() == 0
    assert CustomerAccessLog.objects.count() == 0


@pytest.mark.django_db
def test_rm_without_the_permission_gets_403(client, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)

    assert client.get(export_url(customer)).status_code == 403
    assert post_export(client, customer).status_code == 403
    assert PrivacyRequest.objects.count() == 0


@pytest.mark.django_db
def test_rm_with_the_permission_gets_404_on_another_rms_customer(client, rm, other_rm):
    grant(rm, "export_customer_data")
    theirs = CustomerFactory(owner=other_rm)
    client.force_login(rm)

    assert client.get(export_url(theirs)).status_code == 404
    assert post_export(client, theirs).status_code == 404
    assert PrivacyRequest.objects.count() == 0


@pytest.mark.django_db
def test_supervisor_of_another_team_gets_404(client, foreign_supervisor, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(foreign_supervisor)

    assert post_export(client, customer).status_code == 404


@pytest.mark.django_db
def test_export_masks_contacts_for_a_user_who_may_not_see_them(client, supervisor, rm):
    customer = customer_with_everything(rm)
    exporter = UserFactory(username="exporter", is_superuser=False)
    grant(exporter, "view_customer", "view_all_customers", "export_customer_data")
    client.force_login(exporter)

    text = b"".join(post_export(client, customer).streaming_content).decode()

    assert "13912345678" not in text
    assert EMAIL not in text
    assert "139****5678" in text
    assert json.loads(text)["contact_masked"] is True


def _export_queries(client, customer) -> int:
    documents = []
    count = queries_of(lambda: documents.append(body_of(post_export(client, customer))))
    assert documents[0]["sections"]["crm.customer"][0]["id"] == customer.pk
    return count


@pytest.mark.django_db
def test_export_query_count_does_not_grow_with_the_history(client, supervisor, rm):
    small = customer_with_everything(rm, rows=1)
    big = customer_with_everything(rm, rows=4, phone="+8613700000001", email="b@example.com")
    client.force_login(supervisor)

    assert _export_queries(client, small) == _export_queries(client, big)


@pytest.mark.django_db
def test_export_document_reads_one_query_per_section(rm, django_assert_num_queries):
    customer = customer_with_everything(rm, rows=1)
    sections = len(customer_export_document(customer_id=customer.pk, show_contact=True)["sections"])

    with django_assert_num_queries(sections):
        document = customer_export_document(customer_id=customer.pk, show_contact=True)

    assert SECRET in json.dumps(document, ensure_ascii=False)
