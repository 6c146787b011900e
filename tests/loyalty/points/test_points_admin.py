"""The ledger in admin (read only, scoped, constant queries), adjustments with four eyes, and
the Points panel on the customer's page."""

from datetime import date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty.models import PointsAdjustment, PointsEntry
from loyalty.services.adjustments import adjustment_request
from loyalty.services.ledger import account_get_or_create, credit, debit
from tests.factories import CustomerFactory
from tests.loyalty.factories import SHANGHAI, ProgramFactory

pytestmark = pytest.mark.django_db
Kind = PointsEntry.Kind
ENTRIES = reverse("admin:loyalty_pointsentry_changelist")
ACCOUNTS = reverse("admin:loyalty_pointsaccount_changelist")
ADJUST = reverse("admin:loyalty_pointsadjustment_add")


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(datetime(2026, 3, 16, 15, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def program():
    return ProgramFactory(code="bank", name="Bank")


def with_points(customer, program, *amounts, expires_on=date(2027, 1, 1)):
    account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    for number, points in enumerate(amounts):
        key = f"{customer.pk}-{number}"
        credit(
            account=account,
            kind=Kind.EARN,
            points=points,
            key=key,
            expires_on=expires_on,
            note=f"order {number}",
        )
    return account


def page_of(client, customer) -> str:
    response = client.get(reverse("admin:crm_customer_change", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_an_rm_sees_only_their_customers_entries_and_accounts(client, rm, foreign_rm, program):
    mine = with_points(CustomerFactory(owner=rm), program, 100)
    theirs = with_points(CustomerFactory(owner=foreign_rm), program, 200)
    client.force_login(rm)

    listed = client.get(ENTRIES).context["cl"].result_list
    assert [entry.account_id for entry in listed] == [mine.pk]
    assert list(client.get(ACCOUNTS).context["cl"].result_list) == [mine]
    their_entry = PointsEntry.objects.get(account=theirs)
    change = reverse("admin:loyalty_pointsentry_change", args=[their_entry.pk])
    assert client.get(change).status_code == 404
    assert (
        client.get(reverse("admin:loyalty_pointsaccount_change", args=[theirs.pk])).status_code
        == 404
    )


def test_entries_cannot_be_added_changed_or_deleted(client, supervisor, team, program):
    account = with_points(CustomerFactory(team=team), program, 100)
    entry = PointsEntry.objects.get(account=account)
    client.force_login(supervisor)

    assert client.get(reverse("admin:loyalty_pointsentry_add")).status_code == 403
    assert (
        client.get(reverse("admin:loyalty_pointsentry_delete", args=[entry.pk])).status_code == 403
    )
    page = client.get(reverse("admin:loyalty_pointsentry_change", args=[entry.pk]))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    client.post(reverse("admin:loyalty_pointsentry_change", args=[entry.pk]), {"points": 5})
    entry.refresh_from_db()
    assert entry.points == 100


def test_the_entry_list_costs_the_same_queries_for_few_or_many(client, supervisor, team, program):
    client.force_login(supervisor)
    with_points(CustomerFactory(team=team), program, 10)
    client.get(ENTRIES)
    with CaptureQueriesContext(connection) as few:
        assert client.get(ENTRIES).status_code == 200
    for _ in range(5):
        with_points(CustomerFactory(team=team), program, 10, 20, 30)

    with CaptureQueriesContext(connection) as many:
        response = client.get(ENTRIES, {"kind__exact": "earn"})

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 16
    assert len(many) == len(few)


def test_the_negative_balance_filter(client, supervisor, team, program):
    positive = with_points(CustomerFactory(team=team), program, 100)
    negative = with_points(CustomerFactory(team=team), program, 50)
    earned = PointsEntry.objects.get(account=negative)
    debit(
        account=negative,
        kind=Kind.REVERSE,
        points=80,
        key="refund",
        reverses=earned,
        allow_negative=True,
    )
    client.force_login(supervisor)

    listed = client.get(ACCOUNTS, {"balance": "negative"}).context["cl"].result_list
    assert list(listed) == [negative]
    assert positive not in listed


def test_the_customer_page_shows_points_and_what_expires_soon(client, rm, program):
    customer = CustomerFactory(owner=rm)
    with_points(customer, program, 300, expires_on=date(2026, 4, 1))
    with_points(customer, ProgramFactory(code="shop", name="Shop club"), 40)
    client.force_login(rm)

    page = page_of(client, customer)

    assert "Points" in page
    assert "Bank" in page
    assert "Shop club" in page
    assert "300" in page
    assert "order 0" in page
    assert f"{ADJUST}?customer={customer.pk}" in page
    assert f"{ENTRIES}?account__customer__id__exact={customer.pk}" in page


def test_the_points_panel_costs_the_same_queries_for_a_long_history(client, rm, program):
    customer = CustomerFactory(owner=rm)
    with_points(customer, program, 10)
    client.force_login(rm)
    page_of(client, customer)
    with CaptureQueriesContext(connection) as short:
        page_of(client, customer)
    account = with_points(customer, program)
    for number in range(30):
        credit(
            account=account,
            kind=Kind.EARN,
            points=5,
            key=f"more-{number}",
            expires_on=date(2026, 3, 20 + number % 5),
        )

    with CaptureQueriesContext(connection) as long:
        page = page_of(client, customer)

    assert len(long) == len(short)
    assert page.count("<td>+5</td>") == 10


def test_the_full_list_of_a_customers_entries(client, rm, program):
    customer = CustomerFactory(owner=rm)
    with_points(customer, program, 10, 20)
    with_points(CustomerFactory(owner=rm), program, 30)
    client.force_login(rm)

    response = client.get(ENTRIES, {"account__customer__id__exact": customer.pk})

    assert sorted(entry.points for entry in response.context["cl"].result_list) == [10, 20]


def test_an_rm_adjusts_points_from_the_form(client, rm, program):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)
    assert client.get(ADJUST, {"customer": customer.pk}).status_code == 200

    response = client.post(
        ADJUST,
        {"customer": customer.pk, "program": program.pk, "points": 250, "reason": "Goodwill"},
    )

    adjustment = PointsAdjustment.objects.get()
    assert response.status_code == 302
    assert adjustment.status == "applied"
    assert adjustment.entry.points == 250
    assert adjustment.entry.created_by == rm


def test_a_removal_beyond_the_balance_is_a_form_error(client, rm, program):
    customer = CustomerFactory(owner=rm)
    with_points(customer, program, 100)
    client.force_login(rm)

    response = client.post(
        ADJUST, {"customer": customer.pk, "program": program.pk, "points": -150, "reason": "x"}
    )

    assert response.status_code == 200
    assert "Not enough points" in response.content.decode()
    assert not PointsAdjustment.objects.exists()


def test_an_rm_cannot_adjust_another_rms_customer(client, rm, foreign_rm, program):
    customer = CustomerFactory(owner=rm)
    client.force_login(foreign_rm)

    response = client.post(
        ADJUST, {"customer": customer.pk, "program": program.pk, "points": 5, "reason": "x"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["customer"]
    assert not PointsAdjustment.objects.exists()


def test_a_supervisor_approves_a_large_adjustment_on_its_page(client, rm, supervisor, program):
    customer = CustomerFactory(owner=rm)
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=50_000, reason="Migration"
    )
    change = reverse("admin:loyalty_pointsadjustment_change", args=[adjustment.pk])
    decide = reverse("admin:loyalty_pointsadjustment_decide", args=[adjustment.pk])
    client.force_login(rm)
    assert not client.get(change).context["may_decide"]
    assert client.post(decide, {"decision": "approve"}).status_code == 403

    client.force_login(supervisor)
    assert client.get(change).context["may_decide"]
    response = client.post(decide, {"decision": "approve"}, follow=True)

    adjustment.refresh_from_db()
    assert adjustment.status == "applied"
    assert adjustment.decided_by == supervisor
    assert adjustment.entry.points == 50_000
    assert "Approved" in response.content.decode()
    history = client.get(reverse("admin:loyalty_pointsadjustment_history", args=[adjustment.pk]))
    assert history.status_code == 200


def test_a_supervisor_cannot_approve_their_own_request(client, supervisor, team, program):
    customer = CustomerFactory(team=team)
    adjustment = adjustment_request(
        actor=supervisor, customer=customer, program=program, points=50_000, reason="x"
    )
    client.force_login(supervisor)
    decide = reverse("admin:loyalty_pointsadjustment_decide", args=[adjustment.pk])

    response = client.post(decide, {"decision": "approve"}, follow=True)

    assert "your own" in response.content.decode()
    adjustment.refresh_from_db()
    assert adjustment.status == "pending"
    assert not PointsEntry.objects.exists()


def test_a_rejection_without_a_note_is_refused(client, rm, supervisor, program):
    customer = CustomerFactory(owner=rm)
    adjustment = adjustment_request(
        actor=rm, customer=customer, program=program, points=50_000, reason="x"
    )
    client.force_login(supervisor)
    decide = reverse("admin:loyalty_pointsadjustment_decide", args=[adjustment.pk])

    client.post(decide, {"decision": "reject"})
    adjustment.refresh_from_db()
    assert adjustment.status == "pending"
    client.post(decide, {"decision": "reject", "note": "No such promise"})
    adjustment.refresh_from_db()
    assert adjustment.status == "rejected"
    assert adjustment.decision_note == "No such promise"
