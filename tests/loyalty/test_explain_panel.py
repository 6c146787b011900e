"""The explanation on the customer's page: tier, criteria, distance, warnings, next evaluation."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loyalty.models import DowngradeWarning, MembershipChange
from loyalty.services.evaluation import program_evaluate
from tests.factories import CreditEventFactory
from tests.loyalty.factories import (
    SHANGHAI,
    ConditionFactory,
    CriterionGroupFactory,
    ProgramFactory,
    TierFactory,
    customer_since_2025,
    member,
    products,
    spend,
    tiered_program,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 16)


@pytest.fixture(autouse=True)
def today(time_machine):
    time_machine.move_to(datetime(2026, 3, 16, 15, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def program(db):
    return tiered_program()


@pytest.fixture
def shop_program(db):
    """A second active program the customers are not evaluated in yet."""
    program = ProgramFactory(code="shop", name="Shop club")
    CriterionGroupFactory(tier=TierFactory(program=program, rank=1, name="Friend"), name="all")
    star = TierFactory(program=program, rank=2, name="Star")
    ConditionFactory(
        group=CriterionGroupFactory(tier=star, name="orders"),
        metric="orders",
        threshold=30,
        parameters={},
    )
    return program


def page_of(client, customer) -> str:
    response = client.get(reverse("admin:crm_customer_change", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_shows_the_tier_the_criteria_and_the_distance(client, rm, program, shop_program):
    customer = customer_since_2025(owner=rm)
    products(customer, 2)
    spend(customer, "18000.00")
    program_evaluate(program_id=program.pk, as_of=TODAY - timedelta(days=1))
    client.force_login(rm)

    page = page_of(client, customer)

    assert "Bank: Silver (2★)" in page
    assert "To reach Gold (3★), any one of:" in page
    assert "card spend: 12,000.00 more spend (card) within a 12-month window" in page
    assert "<td>Spend (card), 12 months</td><td>18,000.00</td><td>≥ 30,000.00</td><td>✗</td>" in (
        page
    )
    assert "<td>Intermediate products held</td><td>2</td><td>≥ 2</td><td>✓</td>" in page
    assert "stays at Silver" in page
    # The other active program: not evaluated yet, and what the customer qualifies for.
    assert "Shop club: not evaluated yet" in page
    assert "Qualifies for Friend (all)." in page
    assert "joins at Friend" in page


def test_the_panel_shows_a_warning_and_the_downgrade_to_come(client, rm, program):
    customer = customer_since_2025(owner=rm)
    membership = member(customer, program, 3)
    DowngradeWarning.objects.create(
        membership=membership,
        customer=customer,
        program=program,
        tier=membership.tier,
        opened_on=date(2026, 2, 14),
        deadline=date(2026, 3, 14),
    )
    client.force_login(rm)

    page = page_of(client, customer)

    assert "Downgrade warning on Gold since 02/14/2026" in page
    assert "qualify again by 03/14/2026" in page
    assert "moves down to Silver: the warning&#x27;s deadline has passed" in page


def test_the_panel_shows_a_credit_block(client, rm, program):
    customer = customer_since_2025(owner=rm)
    member(customer, program, 1)
    spend(customer, "30000")
    CreditEventFactory(customer=customer, occurred_at=datetime(2026, 1, 10, 9, tzinfo=SHANGHAI))
    client.force_login(rm)

    page = page_of(client, customer)

    assert "no tier above the base before 01/10/2027" in page
    assert "No move up to Gold before 01/10/2027" in page


def test_the_panel_shows_the_last_changes(client, rm, program):
    customer = customer_since_2025(owner=rm)
    products(customer, 2)
    program_evaluate(program_id=program.pk, as_of=TODAY - timedelta(days=1))
    client.force_login(rm)

    page = page_of(client, customer)

    assert "products: Intermediate products held 2 (≥ 2)" in page
    assert "nightly evaluation" in page


def test_the_pages_queries_do_not_grow_with_the_history(client, rm, program, shop_program):
    from loyalty.panels import LAST_CHANGES

    short, long = customer_since_2025(owner=rm), customer_since_2025(owner=rm)
    for customer, rows in ((short, 1), (long, 10)):
        membership = member(customer, program, 1)
        for day in range(rows):
            MembershipChange.objects.create(
                membership=membership,
                customer=customer,
                program=program,
                to_tier=membership.tier,
                kind=MembershipChange.Kind.JOINED,
                evaluated_on=date(2026, 1, 1) + timedelta(days=day),
            )
    client.force_login(rm)
    page_of(client, short)  # the session and permission caches warm up alike for both

    counts = []
    for customer in (short, long):
        with CaptureQueriesContext(connection) as queries:
            page = page_of(client, customer)
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert page.count("<td>joined</td>") == LAST_CHANGES
