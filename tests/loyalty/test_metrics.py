"""Each tier metric at its window's edges, and in one query for any number of customers."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import CreditEvent, Customer, Interaction, ProductHolding, Transaction
from loyalty.metrics import Window, metric_choices
from loyalty.selectors import metric_values, metric_values_by_customer
from tests.factories import (
    BalanceSnapshotFactory,
    CreditEventFactory,
    CustomerFactory,
    InteractionFactory,
    ProductHoldingFactory,
    TransactionFactory,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 3, 31)
# 12 months as of 2026-03-31: 2025-04-01 .. 2026-03-31.
YEAR_START = date(2025, 4, 1)
DAY_BEFORE_YEAR = date(2025, 3, 31)


def at(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def purchase(customer, day: date, amount: str = "100.00", **kwargs) -> Transaction:
    return TransactionFactory(
        customer=customer, occurred_at=at(day, 12), amount=Decimal(amount), **kwargs
    )


def refund(original: Transaction, day: date, amount: str, **kwargs) -> Transaction:
    return TransactionFactory(
        customer=original.customer,
        kind=Transaction.Kind.REFUND,
        refund_of=original,
        occurred_at=at(day, 12),
        amount=Decimal(amount),
        **kwargs,
    )


def values(metric: str, window_months: int | None = 12, **parameters) -> dict[int, Decimal]:
    return metric_values_by_customer(
        metric=metric, as_of=AS_OF, window_months=window_months, parameters=parameters
    )


def test_window_of_three_months_is_the_last_three_calendar_months():
    window = Window.ending(as_of=AS_OF, months=3)
    assert (window.first_day, window.last_day, window.days) == (date(2026, 1, 1), AS_OF, 90)


def test_every_metric_is_a_choice_of_the_condition():
    assert {code for code, _ in metric_choices()} == {
        "average_daily_assets",
        "spend",
        "orders",
        "intermediate_products",
        "quality_reviews",
        "transactions_of_kind",
        "months_without_credit_event",
    }


# Spend


def test_spend_counts_a_purchase_on_the_window_start_and_not_the_day_before():
    customer = CustomerFactory()
    purchase(customer, YEAR_START, "300.00")
    TransactionFactory(customer=customer, occurred_at=at(YEAR_START), amount=Decimal("1.00"))
    TransactionFactory(
        customer=customer, occurred_at=at(DAY_BEFORE_YEAR, 23, 59), amount=Decimal("5000.00")
    )
    assert values("spend") == {customer.pk: Decimal("301.00")}


def test_spend_counts_the_last_minute_of_as_of_and_not_the_next_day():
    customer = CustomerFactory()
    TransactionFactory(customer=customer, occurred_at=at(AS_OF, 23, 59), amount=Decimal("7.00"))
    TransactionFactory(
        customer=customer, occurred_at=at(date(2026, 4, 1)), amount=Decimal("900.00")
    )
    assert values("spend") == {customer.pk: Decimal("7.00")}


def test_spend_subtracts_refunds_in_the_window():
    customer = CustomerFactory()
    original = purchase(customer, date(2025, 6, 1), "1000.00")
    refund(original, date(2025, 6, 5), "250.00")
    assert values("spend") == {customer.pk: Decimal("750.00")}


def test_spend_subtracts_a_refund_of_a_purchase_made_before_the_window():
    customer = CustomerFactory()
    old = purchase(customer, DAY_BEFORE_YEAR, "400.00")
    purchase(customer, date(2025, 8, 1), "1000.00")
    refund(old, YEAR_START, "400.00")
    assert values("spend") == {customer.pk: Decimal("600.00")}


def test_spend_of_a_category_counts_only_that_category_and_its_refunds():
    customer = CustomerFactory()
    dining = purchase(customer, date(2025, 9, 1), "500.00", category="dining")
    purchase(customer, date(2025, 9, 1), "800.00", category="travel")
    # The refund's own category is not what decides: its purchase's is.
    refund(dining, date(2025, 9, 2), "100.00", category="other")
    assert values("spend", category="dining") == {customer.pk: Decimal("400.00")}
    assert values("spend", category="travel") == {customer.pk: Decimal("800.00")}
    assert values("spend") == {customer.pk: Decimal("1200.00")}


def test_card_spend_leaves_out_other_payment_methods():
    customer = CustomerFactory()
    purchase(customer, date(2025, 9, 1), "500.00", payment_method="card")
    purchase(customer, date(2025, 9, 1), "800.00", payment_method="wallet")
    TransactionFactory(
        customer=customer,
        kind=Transaction.Kind.CARD_REPAYMENT,
        occurred_at=at(date(2025, 9, 3)),
        amount=Decimal("9000.00"),
    )
    assert values("spend", payment_method="card") == {customer.pk: Decimal("500.00")}


def test_spend_refuses_an_unknown_category():
    with pytest.raises(ValidationError) as error:
        values("spend", category="casino")
    assert error.value.code == "invalid_parameter"


# Orders and transactions of a kind


def test_orders_count_purchases_in_the_window_and_not_refunds():
    customer = CustomerFactory()
    first = purchase(customer, YEAR_START)
    purchase(customer, AS_OF)
    purchase(customer, DAY_BEFORE_YEAR)
    refund(first, date(2025, 5, 1), "10.00")
    assert values("orders") == {customer.pk: 2}


def test_card_repayments_this_month():
    customer, other = CustomerFactory(), CustomerFactory()
    for day in (date(2026, 3, 1), date(2026, 3, 15), date(2026, 3, 31)):
        TransactionFactory(
            customer=customer, kind=Transaction.Kind.CARD_REPAYMENT, occurred_at=at(day)
        )
    TransactionFactory(
        customer=customer, kind=Transaction.Kind.CARD_REPAYMENT, occurred_at=at(date(2026, 2, 28))
    )
    TransactionFactory(customer=other, occurred_at=at(date(2026, 3, 10)))
    assert values("transactions_of_kind", 1, kind="card_repayment") == {customer.pk: 3}


def test_transactions_of_kind_needs_a_kind():
    with pytest.raises(ValidationError) as error:
        values("transactions_of_kind", 1)
    assert error.value.code == "missing_parameter"


# Average daily assets


def test_average_daily_assets_divides_by_every_day_of_the_window():
    steady, newcomer = CustomerFactory(), CustomerFactory()
    # 90 days as of 2026-03-31: 2026-01-01 .. 2026-03-31.
    for offset in range(90):
        BalanceSnapshotFactory(
            customer=steady,
            date=date.fromordinal(date(2026, 1, 1).toordinal() + offset),
            amount=Decimal("50000.00"),
        )
    BalanceSnapshotFactory(customer=newcomer, date=AS_OF, amount=Decimal("900000.00"))
    assert values("average_daily_assets", 3) == {
        steady.pk: Decimal("50000.00"),
        newcomer.pk: Decimal("10000.00"),
    }


def test_average_daily_assets_counts_the_window_start_and_not_the_day_before():
    customer = CustomerFactory()
    BalanceSnapshotFactory(customer=customer, date=date(2026, 1, 1), amount=Decimal("9000.00"))
    BalanceSnapshotFactory(customer=customer, date=date(2025, 12, 31), amount=Decimal("1e6"))
    assert values("average_daily_assets", 3) == {customer.pk: Decimal("100.00")}


def test_average_daily_assets_needs_a_window():
    with pytest.raises(ValidationError) as error:
        values("average_daily_assets", None)
    assert error.value.code == "window_required"


# Intermediate products


def test_intermediate_products_count_open_holdings_of_intermediate_types():
    customer = CustomerFactory()
    ProductHoldingFactory(customer=customer, product_type="fund", opened_on=AS_OF)
    ProductHoldingFactory(customer=customer, product_type="insurance", closed_on=date(2026, 4, 1))
    ProductHoldingFactory(customer=customer, product_type="wealth_management", closed_on=AS_OF)
    ProductHoldingFactory(customer=customer, product_type="fund", opened_on=date(2026, 4, 1))
    ProductHoldingFactory(customer=customer, product_type=ProductHolding.ProductType.LOAN)
    assert values("intermediate_products", None) == {customer.pk: 2}


def test_intermediate_products_take_no_window():
    with pytest.raises(ValidationError) as error:
        values("intermediate_products", 3)
    assert error.value.code == "window_not_allowed"


# Quality reviews


def test_quality_reviews_count_reviews_in_the_window():
    customer = CustomerFactory()
    InteractionFactory(customer=customer, kind=Interaction.Kind.REVIEW, occurred_at=at(YEAR_START))
    InteractionFactory(customer=customer, kind=Interaction.Kind.REVIEW, occurred_at=at(AS_OF, 23))
    InteractionFactory(
        customer=customer, kind=Interaction.Kind.REVIEW, occurred_at=at(DAY_BEFORE_YEAR, 23)
    )
    InteractionFactory(customer=customer, kind=Interaction.Kind.CALL, occurred_at=at(AS_OF))
    assert values("quality_reviews") == {customer.pk: 2}


# Months without a credit event


def test_months_without_credit_event_count_from_the_latest_serious_event():
    serious, minor, clean = (CustomerFactory(created_at=at(date(2020, 1, 1))) for _ in range(3))
    CreditEventFactory(customer=serious, occurred_at=at(date(2024, 1, 1)))
    CreditEventFactory(customer=serious, occurred_at=at(date(2025, 12, 31)))  # 3 months
    CreditEventFactory(
        customer=minor, severity=CreditEvent.Severity.MINOR, occurred_at=at(date(2026, 3, 1))
    )
    CreditEventFactory(customer=clean, occurred_at=at(date(2026, 4, 1)))  # after as_of
    assert values("months_without_credit_event", None) == {
        serious.pk: 3,
        minor.pk: 74,
        clean.pk: 74,
    }


def test_months_without_credit_event_count_whole_months_only():
    customer = CustomerFactory(created_at=at(date(2020, 1, 1)))
    CreditEventFactory(customer=customer, occurred_at=at(date(2025, 12, 31)))
    as_of_values = [
        metric_values_by_customer(metric="months_without_credit_event", as_of=day)[customer.pk]
        for day in (date(2026, 1, 30), date(2026, 1, 31), date(2026, 3, 30))
    ]
    assert as_of_values == [0, 1, 2]


def test_months_without_credit_event_leave_out_new_and_merged_customers():
    CustomerFactory(created_at=at(date(2026, 4, 1)))
    CustomerFactory(created_at=at(date(2020, 1, 1)), status=Customer.Status.MERGED)
    assert values("months_without_credit_event", None) == {}


# One query, however many customers


def _seed_customers(count: int) -> None:
    for customer in CustomerFactory.create_batch(count, created_at=at(date(2024, 1, 1))):
        original = purchase(customer, date(2025, 9, 1), "500.00")
        refund(original, date(2025, 9, 2), "100.00")
        TransactionFactory(
            customer=customer, kind=Transaction.Kind.CARD_REPAYMENT, occurred_at=at(AS_OF)
        )
        BalanceSnapshotFactory(customer=customer, date=AS_OF)
        ProductHoldingFactory(customer=customer)
        InteractionFactory(customer=customer, kind=Interaction.Kind.REVIEW, occurred_at=at(AS_OF))
        CreditEventFactory(customer=customer, occurred_at=at(date(2025, 1, 1)))


METRIC_CALLS = [
    ("average_daily_assets", 3, {}),
    ("spend", 12, {}),
    ("spend", 12, {"category": "dining"}),
    ("spend", 12, {"payment_method": "card"}),
    ("orders", 12, {}),
    ("intermediate_products", None, {}),
    ("quality_reviews", 12, {}),
    ("transactions_of_kind", 1, {"kind": "card_repayment"}),
    ("months_without_credit_event", None, {}),
]


@pytest.mark.parametrize(("metric", "window_months", "parameters"), METRIC_CALLS)
def test_metric_is_one_query_for_any_number_of_customers(
    django_assert_num_queries, metric, window_months, parameters
):
    seeded = 0
    for count in (5, 50):
        _seed_customers(count - seeded)
        seeded = count
        with django_assert_num_queries(1):
            rows = list(
                metric_values(
                    metric=metric, as_of=AS_OF, window_months=window_months, parameters=parameters
                )
            )
        assert len(rows) == count


def test_average_daily_assets_is_rounded_to_the_cent():
    customer = CustomerFactory()
    BalanceSnapshotFactory(customer=customer, date=AS_OF, amount=Decimal("100.00"))
    # 100 / 90 days = 1.111...
    assert values("average_daily_assets", 3) == {customer.pk: Decimal("1.11")}
