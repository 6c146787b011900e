"""Stability flags: an unusual spend is flagged, does not count, and an RM accepts or rejects it."""

from datetime import date, datetime, time
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Transaction
from loyalty.models import StabilityFlag
from loyalty.selectors import metric_values_by_customer
from loyalty.services.stability import (
    stability_flag_accept,
    stability_flag_reject,
    unusual_spend_flag,
)
from tests.factories import CustomerFactory, TransactionFactory

pytestmark = pytest.mark.django_db

# Lookback of 7 days: 2026-03-25 .. 2026-03-31. Trailing months: 2025-03 .. 2026-02.
AS_OF = date(2026, 3, 31)
# The 10th of each trailing month, the latest first.
TRAILING_DAYS = [date(2026, 2, 10) - relativedelta(months=n) for n in range(12)]


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def purchase(customer, when: date | datetime, amount: str) -> Transaction:
    occurred_at = when if isinstance(when, datetime) else at(when)
    return TransactionFactory(customer=customer, occurred_at=occurred_at, amount=Decimal(amount))


def refund(original: Transaction, when: date, amount: str) -> Transaction:
    return TransactionFactory(
        customer=original.customer,
        kind=Transaction.Kind.REFUND,
        refund_of=original,
        occurred_at=at(when),
        amount=Decimal(amount),
    )


def customer_with_months(*totals: str):
    """A customer with one purchase of each total in the trailing months, the latest first."""
    customer = CustomerFactory()
    for day, total in zip(TRAILING_DAYS, totals, strict=False):
        purchase(customer, day, total)
    return customer


def flagged_amounts() -> list[Decimal]:
    return sorted(StabilityFlag.objects.values_list("amount", flat=True))


def spend(customer, as_of: date = AS_OF) -> Decimal:
    return metric_values_by_customer(metric="spend", as_of=as_of, window_months=12).get(
        customer.pk, Decimal(0)
    )


# Flagging


def test_exactly_five_times_the_median_is_not_flagged_a_cent_more_is():
    usual = customer_with_months("100.00", "100.00", "100.00")
    purchase(usual, AS_OF, "500.00")
    unusual = customer_with_months("100.00", "100.00", "100.00")
    big = purchase(unusual, AS_OF, "500.01")

    assert unusual_spend_flag(as_of=AS_OF) == 1

    flag = StabilityFlag.objects.get()
    assert (flag.transaction, flag.customer, flag.amount, flag.monthly_median) == (
        big,
        unusual,
        Decimal("500.01"),
        Decimal("100.00"),
    )
    assert (flag.flagged_on, flag.status) == (AS_OF, StabilityFlag.Status.PENDING)


def test_a_customer_with_fewer_than_three_months_of_purchases_has_no_pattern_yet():
    newcomer = customer_with_months("100.00", "100.00")
    purchase(newcomer, AS_OF, "10000.00")

    assert unusual_spend_flag(as_of=AS_OF) == 0
    assert not StabilityFlag.objects.exists()


def test_the_median_of_an_even_number_of_months_is_the_mean_of_the_middle_two():
    # Totals 100, 200, 300, 1000: median (200 + 300) / 2 = 250, five times 1250.
    at_limit = customer_with_months("100.00", "1000.00", "200.00", "300.00")
    purchase(at_limit, AS_OF, "1250.00")
    over = customer_with_months("100.00", "1000.00", "200.00", "300.00")
    purchase(over, AS_OF, "1250.01")

    unusual_spend_flag(as_of=AS_OF)

    flag = StabilityFlag.objects.get()
    assert (flag.customer, flag.monthly_median) == (over, Decimal("250.00"))


def test_a_half_cent_median_is_compared_exactly_and_stored_to_the_cent():
    # Middle totals 200.00 and 300.01: median 250.005, five times 1250.025.
    under = customer_with_months("100.00", "200.00", "300.01", "900.00")
    purchase(under, AS_OF, "1250.02")
    over = customer_with_months("100.00", "200.00", "300.01", "900.00")
    purchase(over, AS_OF, "1250.03")

    unusual_spend_flag(as_of=AS_OF)

    flag = StabilityFlag.objects.get()
    assert (flag.customer, flag.amount, flag.monthly_median) == (
        over,
        Decimal("1250.03"),
        Decimal("250.01"),
    )


def test_a_months_total_adds_its_purchases_and_only_months_with_purchases_count():
    customer = customer_with_months("100.00", "100.00", "100.00")
    # A second purchase in February: totals 100, 100, 160; the median stays 100.
    purchase(customer, date(2026, 2, 20), "60.00")
    purchase(customer, AS_OF, "500.01")

    unusual_spend_flag(as_of=AS_OF)

    assert StabilityFlag.objects.get().monthly_median == Decimal("100.00")


def test_months_are_local_months_at_their_edges():
    customer = CustomerFactory()
    purchase(customer, date(2025, 12, 10), "100.00")
    # 23:30 on 31 January is January; 00:30 on 1 February is February in Shanghai, although
    # both are 31 January in UTC (where January would total 200 and February nothing).
    purchase(customer, at(date(2026, 1, 31), 23, 30), "100.00")
    purchase(customer, at(date(2026, 2, 1), 0, 30), "100.00")
    purchase(customer, AS_OF, "500.01")

    unusual_spend_flag(as_of=AS_OF)

    assert StabilityFlag.objects.get().monthly_median == Decimal("100.00")


def test_the_trailing_months_start_twelve_months_back_and_end_before_this_month():
    customer = CustomerFactory()
    purchase(customer, at(date(2025, 2, 28), 23, 30), "1000.00")  # 13 months back: left out
    purchase(customer, at(date(2025, 3, 1), 0, 30), "100.00")  # 12 months back: counts
    purchase(customer, date(2025, 9, 10), "100.00")
    purchase(customer, at(date(2026, 2, 28), 23, 30), "100.00")  # last month: counts
    purchase(customer, at(date(2026, 3, 1), 0, 30), "1000.00")  # this month: left out
    purchase(customer, AS_OF, "500.01")

    unusual_spend_flag(as_of=AS_OF)

    assert flagged_amounts() == [Decimal("500.01")]
    assert StabilityFlag.objects.get().monthly_median == Decimal("100.00")


def test_only_purchases_of_the_lookback_days_are_flagged():
    customer = customer_with_months("100.00", "100.00", "100.00")
    purchase(customer, at(date(2026, 3, 24), 23, 30), "900.00")  # 8 days back
    purchase(customer, at(date(2026, 3, 25), 0, 30), "901.00")  # 7 days back
    purchase(customer, at(AS_OF, 23, 59), "902.00")
    purchase(customer, at(date(2026, 4, 1), 0, 0), "903.00")  # after the day
    TransactionFactory(
        customer=customer, kind=Transaction.Kind.DEPOSIT, occurred_at=at(AS_OF), amount=9999
    )

    unusual_spend_flag(as_of=AS_OF)

    assert flagged_amounts() == [Decimal("901.00"), Decimal("902.00")]


def test_a_second_run_changes_nothing():
    customer = customer_with_months("100.00", "100.00", "100.00")
    purchase(customer, AS_OF, "800.00")
    assert unusual_spend_flag(as_of=AS_OF) == 1
    flag = StabilityFlag.objects.get()
    stability_flag_reject(flag=flag, reviewed_by=_superuser(), comment="Card fraud")

    assert unusual_spend_flag(as_of=AS_OF) == 0
    assert unusual_spend_flag(as_of=date(2026, 4, 1)) == 0

    assert StabilityFlag.objects.get().status == StabilityFlag.Status.REJECTED


def test_a_rejected_spend_does_not_raise_the_pattern_for_the_next_one():
    customer = customer_with_months("100.00", "100.00", "400.00")
    rejected = purchase(customer, date(2025, 11, 10), "10000.00")  # alone in its month
    StabilityFlag.objects.create(
        transaction=rejected,
        customer=customer,
        amount=rejected.amount,
        monthly_median=Decimal("100.00"),
        flagged_on=date(2025, 11, 10),
        status=StabilityFlag.Status.REJECTED,
        comment="Card fraud",
    )
    purchase(customer, AS_OF, "600.00")

    unusual_spend_flag(as_of=AS_OF)

    # Totals 100, 100, 400 (not 10000 too): median 100, and 600 is more than 500.
    assert flagged_amounts() == [Decimal("600.00"), Decimal("10000.00")]


def test_flagging_is_one_statement_whatever_the_number_of_customers():
    def flag_with(customers: int) -> int:
        for _ in range(customers):
            customer = customer_with_months("100.00", "100.00", "100.00")
            purchase(customer, AS_OF, "900.00")
        with CaptureQueriesContext(connection) as queries:
            flagged = unusual_spend_flag(as_of=AS_OF)
        assert flagged == customers
        return len(queries)

    few = flag_with(20)
    many = flag_with(60)

    # One INSERT ... SELECT.
    assert few == many == 1


def test_the_nightly_task_flags_before_it_enqueues_the_evaluations(monkeypatch):
    from loyalty import tasks
    from tests.loyalty.factories import ProgramFactory

    ProgramFactory()
    customer = customer_with_months("100.00", "100.00", "100.00")
    purchase(customer, AS_OF, "900.00")
    flags_when_enqueued = []
    monkeypatch.setattr(
        tasks.evaluate_program_task,
        "delay",
        lambda **kwargs: flags_when_enqueued.append(StabilityFlag.objects.count()),
    )

    tasks.evaluate_all_programs_task(as_of=AS_OF.isoformat())

    assert flags_when_enqueued == [1]


# What counts


@pytest.fixture
def flagged():
    """A customer with 100 in each of three months and an unusual 900 on AS_OF, flagged."""
    customer = customer_with_months("100.00", "100.00", "100.00")
    big = purchase(customer, AS_OF, "900.00")
    unusual_spend_flag(as_of=AS_OF)
    return big.stability_flag


def _superuser():
    from tests.factories import UserFactory

    return UserFactory(username="admin", is_superuser=True)


def test_a_pending_spend_does_not_count(flagged):
    customer = flagged.customer

    assert spend(customer) == Decimal("300.00")
    orders = metric_values_by_customer(metric="orders", as_of=AS_OF, window_months=12)
    assert orders[customer.pk] == 3
    purchases = metric_values_by_customer(
        metric="transactions_of_kind",
        as_of=AS_OF,
        window_months=12,
        parameters={"kind": Transaction.Kind.PURCHASE},
    )
    assert purchases[customer.pk] == 3


def test_an_accepted_spend_counts(flagged):
    stability_flag_accept(flag=flagged, reviewed_by=_superuser())

    assert spend(flagged.customer) == Decimal("1200.00")
    orders = metric_values_by_customer(metric="orders", as_of=AS_OF, window_months=12)
    assert orders[flagged.customer.pk] == 4


def test_a_rejected_spend_does_not_count(flagged):
    stability_flag_reject(flag=flagged, reviewed_by=_superuser(), comment="Paid for a friend")

    assert spend(flagged.customer) == Decimal("300.00")


def test_the_refund_of_a_rejected_spend_does_not_count_either(flagged):
    stability_flag_reject(flag=flagged, reviewed_by=_superuser(), comment="Paid for a friend")
    refund(flagged.transaction, date(2026, 3, 31), "900.00")
    refunds = metric_values_by_customer(
        metric="transactions_of_kind",
        as_of=AS_OF,
        window_months=12,
        parameters={"kind": Transaction.Kind.REFUND},
    )

    assert spend(flagged.customer) == Decimal("300.00")
    assert flagged.customer.pk not in refunds


def test_the_refund_of_an_accepted_spend_counts(flagged):
    stability_flag_accept(flag=flagged, reviewed_by=_superuser())
    refund(flagged.transaction, date(2026, 3, 31), "200.00")

    assert spend(flagged.customer) == Decimal("1000.00")


# Review


def test_an_rm_accepts_a_spend_of_their_customer(rm):
    customer = customer_with_months("100.00", "100.00", "100.00")
    customer.owner = rm
    customer.save(update_fields=["owner"])
    purchase(customer, AS_OF, "900.00")
    unusual_spend_flag(as_of=AS_OF)

    flag = stability_flag_accept(
        flag=StabilityFlag.objects.get(), reviewed_by=rm, comment="Wedding"
    )

    flag.refresh_from_db()
    assert (flag.status, flag.reviewed_by, flag.comment) == (
        StabilityFlag.Status.ACCEPTED,
        rm,
        "Wedding",
    )
    assert flag.reviewed_at is not None


def test_an_rm_cannot_review_another_rms_customer(flagged, rm, foreign_rm):
    flagged.customer.owner = foreign_rm
    flagged.customer.save(update_fields=["owner"])

    with pytest.raises(ValidationError) as error:
        stability_flag_accept(flag=flagged, reviewed_by=rm)

    assert error.value.code == "not_visible"
    flagged.refresh_from_db()
    assert flagged.status == StabilityFlag.Status.PENDING


def test_a_rejection_needs_a_comment(flagged):
    with pytest.raises(ValidationError) as error:
        stability_flag_reject(flag=flagged, reviewed_by=_superuser(), comment="  ")

    assert error.value.code == "comment_required"
    flagged.refresh_from_db()
    assert flagged.status == StabilityFlag.Status.PENDING


def test_only_a_pending_spend_is_reviewed(flagged):
    stability_flag_reject(flag=flagged, reviewed_by=_superuser(), comment="Paid for a friend")

    with pytest.raises(ValidationError) as error:
        stability_flag_accept(flag=flagged, reviewed_by=_superuser())

    assert error.value.code == "not_pending"
    flagged.refresh_from_db()
    assert flagged.status == StabilityFlag.Status.REJECTED
