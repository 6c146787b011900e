"""The purchase summary, the nightly refresh of every customer's lifetime value, and the panel
on the customer's page."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Customer, Transaction
from loyalty.clv.summary import purchase_summary
from loyalty.models import CustomerValue, ValueModelRun
from loyalty.services.customer_values import customer_values_refresh
from loyalty.tasks import refresh_customer_values_task
from tests.factories import CustomerFactory, TransactionFactory
from tests.loyalty.factories import SHANGHAI

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 3, 31)


def buy(customer, on: date, amount: str, *, hour: int = 12, currency: str = "CNY", **kwargs):
    return TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        currency=currency,
        occurred_at=datetime.combine(on, time(hour), tzinfo=SHANGHAI),
        **kwargs,
    )


def refund(purchase: Transaction, on: date, amount: str):
    return TransactionFactory(
        customer=purchase.customer,
        kind=Transaction.Kind.REFUND,
        refund_of=purchase,
        amount=Decimal(amount),
        occurred_at=datetime.combine(on, time(12), tzinfo=SHANGHAI),
    )


def summary_of(summary, customer) -> dict:
    index = int(np.flatnonzero(summary.customer_ids == customer.pk)[0])
    return {
        "frequency": summary.frequency[index],
        "recency": summary.recency[index],
        "T": summary.T[index],
        "monetary": summary.monetary[index],
        "historical_cents": int(summary.historical_cents[index]),
    }


def test_summary_counts_repeat_purchase_days_net_of_refunds():
    regular, once, refunded_only, dollar_only, merged, never = (CustomerFactory() for _ in range(6))
    buy(regular, date(2026, 1, 1), "100.00")
    # Two purchases on one local day are one period; 00:30 in Shanghai is still 3 January
    # although it is 2 January in UTC.
    buy(regular, date(2026, 1, 3), "30.00", hour=9)
    buy(regular, date(2026, 1, 3), "20.00", hour=0)
    fully_refunded = buy(regular, date(2026, 1, 10), "80.00")
    refund(fully_refunded, date(2026, 1, 11), "80.00")
    partly_refunded = buy(regular, date(2026, 1, 21), "90.00")
    refund(partly_refunded, date(2026, 1, 22), "40.00")
    buy(regular, date(2026, 4, 1), "500.00")  # after as_of
    buy(regular, date(2026, 1, 25), "70.00", currency="USD")  # another currency
    buy(once, date(2026, 3, 1), "60.00")
    only = buy(refunded_only, date(2026, 2, 1), "25.00")
    refund(only, date(2026, 2, 2), "25.00")
    buy(dollar_only, date(2026, 2, 1), "25.00", currency="USD")
    buy(merged, date(2026, 1, 1), "10.00")
    buy(merged, date(2026, 2, 1), "10.00")
    Customer.objects.filter(pk=merged.pk).update(status=Customer.Status.MERGED)

    summary = purchase_summary(as_of=AS_OF)

    assert sorted(summary.customer_ids.tolist()) == sorted([regular.pk, once.pk])
    assert summary.customer_ids.tolist() == sorted(summary.customer_ids.tolist())
    assert summary_of(summary, regular) == {
        "frequency": 2.0,  # 3 January and 21 January after the first day
        "recency": 20.0,
        "T": 89.0,  # 1 January to 31 March
        "monetary": pytest.approx((50 + 50) / 2),
        "historical_cents": (100 + 50 + 50) * 100,
    }
    assert summary_of(summary, once) == {
        "frequency": 0.0,
        "recency": 0.0,
        "T": 30.0,
        "monetary": 0.0,
        "historical_cents": 6000,
    }
    assert never.pk not in summary.customer_ids


def test_summary_of_no_purchase_is_empty():
    CustomerFactory()

    summary = purchase_summary(as_of=AS_OF)

    assert summary.size == 0
    assert summary.frequency.shape == (0,)


def population(size: int = 40, seed: int = 7) -> list[Customer]:
    """Customers with a few purchases each, some of them one-off, over a year."""
    generator = np.random.default_rng(seed)
    customers = [CustomerFactory() for _ in range(size)]
    rows = []
    for customer in customers:
        first = date(2025, 4, 1) + timedelta(days=int(generator.integers(0, 300)))
        days = {first}
        for _ in range(int(generator.integers(0, 6))):
            day = first + timedelta(days=int(generator.integers(1, 120)))
            if day <= AS_OF:
                days.add(day)
        for day in sorted(days):
            amount = Decimal(int(generator.integers(2000, 30000))) / 100
            rows.append(
                Transaction(
                    customer=customer,
                    amount=amount,
                    occurred_at=datetime.combine(day, time(12), tzinfo=SHANGHAI),
                    source="shop",
                    external_id=f"clv-{customer.pk}-{day.isoformat()}",
                )
            )
    Transaction.objects.bulk_create(rows)
    return customers


def values_table() -> list[tuple]:
    return list(
        CustomerValue.objects.order_by("customer_id").values_list(
            "customer_id",
            "run_id",
            "historical_value",
            "expected_purchases_90_days",
            "probability_alive",
            "predicted_value",
        )
    )


def test_refresh_scores_every_customer_with_a_purchase_and_records_the_run():
    customers = population()
    without_purchase = CustomerFactory()

    result = customer_values_refresh(as_of=AS_OF)

    run = result.run
    assert run.as_of == AS_OF
    assert run.customers == len(customers)
    assert 0 < run.repeat_customers < len(customers)
    assert run.bgnbd_r > 0
    assert run.bgnbd_alpha > 0
    assert run.gamma_gamma_q > 1
    assert (run.horizon_months, run.currency) == (12, "CNY")
    assert result.written == len(customers)
    assert result.deleted == 0
    assert not CustomerValue.objects.filter(customer=without_purchase).exists()
    value = CustomerValue.objects.get(customer=customers[0])
    spent = sum(Transaction.objects.filter(customer=customers[0]).values_list("amount", flat=True))
    assert value.historical_value == spent
    assert value.run == run
    assert 0 <= value.probability_alive <= 1
    assert value.expected_purchases_90_days >= 0
    assert value.predicted_value > 0
    assert CustomerValue.objects.filter(predicted_value__gt=Decimal("0")).count() == len(customers)


def test_refreshing_twice_changes_nothing_the_second_time():
    population()
    customer_values_refresh(as_of=AS_OF)
    before = values_table()
    run_before = ValueModelRun.objects.values_list(
        "pk", "bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "gamma_gamma_p"
    ).get()

    again = customer_values_refresh(as_of=AS_OF)

    assert again.written == 0
    assert again.deleted == 0
    assert values_table() == before
    assert (
        ValueModelRun.objects.values_list(
            "pk", "bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "gamma_gamma_p"
        ).get()
        == run_before
    )


def test_the_next_day_moves_every_customer_to_the_new_run_and_drops_the_ones_without_purchase():
    customers = population()
    customer_values_refresh(as_of=AS_OF)
    # Every purchase of the first customer is refunded: no purchase left.
    for purchase in Transaction.objects.filter(customer=customers[0]):
        refund(purchase, AS_OF + timedelta(days=1), str(purchase.amount))

    result = customer_values_refresh(as_of=AS_OF + timedelta(days=1))

    assert result.deleted == 1
    assert not CustomerValue.objects.filter(customer=customers[0]).exists()
    assert set(CustomerValue.objects.values_list("run_id", flat=True)) == {result.run.pk}
    assert ValueModelRun.objects.count() == 2


def test_too_little_data_is_refused_and_changes_nothing():
    buy(CustomerFactory(), date(2026, 1, 1), "10.00")
    buy(CustomerFactory(), date(2026, 1, 2), "10.00")

    with pytest.raises(ValidationError) as refused:
        customer_values_refresh(as_of=AS_OF)

    assert refused.value.code == "too_few_customers"
    assert not ValueModelRun.objects.exists()
    assert not CustomerValue.objects.exists()
    # The nightly task says so and is not retried.
    assert refresh_customer_values_task(as_of=AS_OF.isoformat()) is None


def test_the_task_refreshes_as_of_the_given_day():
    population()

    run_id = refresh_customer_values_task(as_of=AS_OF.isoformat())

    assert ValueModelRun.objects.get(pk=run_id).as_of == AS_OF
    assert CustomerValue.objects.filter(run_id=run_id).exists()


def test_the_task_is_scheduled_nightly():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="loyalty.tasks.refresh_customer_values_task")
    assert task.enabled
    assert (task.crontab.minute, task.crontab.hour) == ("30", "2")


# -- the panel ------------------------------------------------------------------------------------


def page_of(client, customer) -> str:
    response = client.get(reverse("admin:crm_customer_change", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_shows_the_customers_lifetime_value(client, rm):
    customers = population()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(owner=rm)
    customer_values_refresh(as_of=AS_OF)
    value = CustomerValue.objects.get(customer=customers[0])
    client.force_login(rm)

    page = page_of(client, customers[0])

    assert "Lifetime value" in page
    assert "Expected purchases in the next 90 days" in page
    assert f"{value.expected_purchases_90_days:.1f}" in page
    assert f"{round(value.probability_alive * 100)}%" in page
    assert "Predicted value, next 12 months" in page
    assert f"{value.predicted_value:,}" in page
    assert f"{value.historical_value:,}" in page
    assert "Purchases up to" in page


def test_the_panel_says_when_there_is_no_value_yet(client, rm):
    customer = CustomerFactory(owner=rm)
    client.force_login(rm)

    page = page_of(client, customer)

    assert "No lifetime value yet" in page


def test_the_panel_is_translated(client, rm):
    customers = population()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(owner=rm)
    customer_values_refresh(as_of=AS_OF)
    client.force_login(rm)

    response = client.get(
        reverse("admin:crm_customer_change", args=[customers[0].pk]),
        headers={"accept-language": "zh-hans"},
    )

    assert "未来 90 天预计购买次数" in response.content.decode()


def test_the_panels_queries_do_not_depend_on_the_customer(client, rm):
    customers = population()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(owner=rm)
    customer_values_refresh(as_of=AS_OF)
    no_value = CustomerFactory(owner=rm)
    busiest = max(customers, key=lambda c: Transaction.objects.filter(customer=c).count())
    client.force_login(rm)
    page_of(client, customers[0])  # the session and permission caches warm up alike for all

    counts = []
    for customer in (customers[0], busiest, no_value):
        with CaptureQueriesContext(connection) as queries:
            page_of(client, customer)
        counts.append(len([q for q in queries if "loyalty_customervalue" in q["sql"]]))
        counts.append(len(queries))

    assert counts[0] == counts[2] == counts[4] == 1
    assert counts[1] == counts[3] == counts[5]


def test_a_merge_keeps_the_survivors_value_or_moves_the_duplicates(supervisor, team):
    from crm.services.merges import customer_merge

    customers = population()
    Customer.objects.filter(pk__in=[c.pk for c in customers]).update(team=team)
    customer_values_refresh(as_of=AS_OF)
    survivor, duplicate, alone = customers[0], customers[1], CustomerFactory()
    Customer.objects.filter(pk=alone.pk).update(team=team)
    kept = CustomerValue.objects.get(customer=survivor).predicted_value
    moved = CustomerValue.objects.get(customer=customers[2]).predicted_value

    customer_merge(actor=supervisor, survivor_id=survivor.pk, merged_id=duplicate.pk)
    customer_merge(actor=supervisor, survivor_id=alone.pk, merged_id=customers[2].pk)

    # Until the next night refits on the merged history: the survivor's own value stays.
    assert CustomerValue.objects.get(customer=survivor).predicted_value == kept
    assert not CustomerValue.objects.filter(customer=duplicate).exists()
    assert CustomerValue.objects.get(customer=alone).predicted_value == moved


def test_the_command_scores_now_and_refuses_clearly_when_there_is_too_little():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("refresh_customer_values", as_of=AS_OF.isoformat())
    assert not ValueModelRun.objects.exists()

    population()
    call_command("refresh_customer_values", as_of=AS_OF.isoformat())
    run = ValueModelRun.objects.get()
    assert run.as_of == AS_OF
    assert CustomerValue.objects.filter(run=run).count() == run.customers > 0
