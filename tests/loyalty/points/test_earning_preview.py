"""The preview says what a transaction would earn and why; it agrees with the SQL."""

import itertools
from datetime import date, time
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Transaction
from loyalty.earning.preview import earning_preview
from tests.factories import CustomerFactory
from tests.loyalty.factories import member
from tests.loyalty.points.earning_helpers import (
    FRIDAY,
    Kind,
    at,
    bank,
    base,
    earned,
    purchase,
    rule,
    tier,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    created = bank()
    base(created, "1", name="Base rate")
    rule(created, Kind.CATEGORY, name="Dining", category="dining", multiplier=Decimal("2"))
    rule(
        created,
        Kind.TIME_WINDOW,
        name="Friday afternoon",
        weekday=4,
        starts_at=time(12),
        ends_at=time(18),
        multiplier=Decimal("1.15"),
    )
    gold = tier(created, 3)
    rule(created, Kind.TIER, name="Gold", tier=gold, multiplier=Decimal("1.2"))
    rule(created, Kind.FIRST_ORDER, name="First order", multiplier=Decimal("3"))
    rule(
        created,
        Kind.BONUS,
        name="Card repayment bonus",
        transaction_kind="card_repayment",
        min_amount=Decimal("5000"),
        points=500,
    )
    base(created, "0.1", name="Repayment rate", transaction_kind="card_repayment")
    rule(created, Kind.DAILY_CAP, name="Daily cap", points=2000)
    return created


def test_preview_explains_line_by_line(program):
    preview = earning_preview(
        program_id=program.pk,
        amount=Decimal("128.50"),
        kind="purchase",
        category="dining",
        source="",
        occurred_at=at(FRIDAY, 15),
    )

    assert preview.points == 295
    text = "\n".join(preview.lines)
    assert "128.50" in text
    assert "Dining x2 -> 257.00" in text
    assert "Friday afternoon x1.15 -> 295.55" in text
    assert "Rounded down: 295" in text
    assert "Daily cap 2,000" in text


@pytest.mark.parametrize("gold", [False, True])
def test_preview_and_sql_agree_on_a_grid(program, gold):
    customer = CustomerFactory()
    if gold:
        member(customer, program, 3)
    amounts = ["0.99", "100.00", "128.50", "999.99", "5000.00"]
    kinds = ["purchase", "card_repayment"]
    categories = ["dining", "travel"]
    moments = [at(FRIDAY, 11, 59), at(FRIDAY, 12), at(FRIDAY, 17, 59), at(FRIDAY, 18)]
    grid = itertools.product(amounts, kinds, categories, moments)
    for day, (amount, kind, category, moment) in enumerate(grid, start=1):
        when = moment + timezone.timedelta(days=7 * day)  # another Friday: no cap in between
        expected = earning_preview(
            program_id=program.pk,
            amount=Decimal(amount),
            kind=kind,
            category=category,
            source="",
            occurred_at=when,
            customer=customer,
        )
        made = purchase(customer, amount, kind=kind, category=category, when=when)

        assert earned(made, program) == expected.points, (amount, kind, category, when)


def test_preview_page_for_supervisors(program, client, supervisor):
    customer = CustomerFactory(team=supervisor.teammembership_set.first().team)
    client.force_login(supervisor)
    changelist = client.get("/admin/loyalty/earningrule/")
    assert "Preview earning" in changelist.content.decode()

    response = client.get(
        "/admin/loyalty/earningrule/preview/",
        {
            "program": program.pk,
            "amount": "128.50",
            "kind": "purchase",
            "category": "dining",
            "source": "",
            "date": FRIDAY.isoformat(),
            "time": "15:00",
            "customer": customer.pk,
        },
    )

    assert response.status_code == 200
    # a new customer: first order x3; 128.50 x 2 x 1.15 x 3 = 886.65
    assert response.context["preview"].points == 886
    assert "Rounded down" in response.content.decode()


def test_preview_page_refuses_a_customer_the_user_may_not_see(program, client, supervisor):
    other = CustomerFactory()
    client.force_login(supervisor)
    response = client.get(
        "/admin/loyalty/earningrule/preview/",
        {
            "program": program.pk,
            "amount": "10",
            "kind": "purchase",
            "date": date(2026, 3, 10).isoformat(),
            "time": "10:00",
            "customer": other.pk,
        },
    )

    assert response.status_code == 200
    assert response.context["preview"] is None
    assert "customer" in response.context["form"].errors


def test_rm_may_not_open_the_preview(program, client, rm):
    client.force_login(rm)

    assert client.get("/admin/loyalty/earningrule/preview/").status_code == 403


def test_earning_rule_form_shows_clean_errors(program, client, supervisor):
    client.force_login(supervisor)
    response = client.post(
        "/admin/loyalty/earningrule/add/",
        {"program": program.pk, "kind": "category", "name": "No category", "is_active": "on"},
    )

    assert response.status_code == 200
    assert "category" in response.context["adminform"].form.errors


def test_refund_previews_nothing(program):
    preview = earning_preview(
        program_id=program.pk,
        amount=Decimal("10"),
        kind=Transaction.Kind.REFUND,
        category="",
        source="",
        occurred_at=at(FRIDAY),
    )
    assert preview.points == 0
