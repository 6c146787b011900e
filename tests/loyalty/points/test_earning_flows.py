"""Earning as transactions arrive (API batch, import), refunds, review bonuses, query counts."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import ImportJob, Interaction, Source, Transaction
from crm.services.transactions import transaction_batch_create
from crm.signals import interactions_stored
from loyalty.models import PointsAccount, PointsEntry
from loyalty.selectors import negative_balance_accounts
from loyalty.services.earning import interactions_earn, transactions_earn
from loyalty.services.ledger import account_get_or_create, debit
from tests.crm.imports.conftest import csv_bytes, import_now
from tests.factories import CustomerFactory, InteractionFactory, SourceRecordFactory
from tests.loyalty.points.earning_helpers import (
    Kind,
    at,
    balance,
    bank,
    base,
    earned,
    purchase,
    rule,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    created = bank()
    base(created, "1")
    return created


def refund(original, amount, *, external_id=None):
    made = Transaction.objects.create(
        customer=original.customer,
        kind=Transaction.Kind.REFUND,
        amount=Decimal(amount),
        occurred_at=at(date(2026, 3, 12)),
        source=original.source,
        external_id=external_id or f"R-{original.pk}-{Transaction.objects.count()}",
        refund_of=original,
    )
    transactions_earn(transaction_ids=[made.pk])
    return made


def reversed_points(original, program):
    entry = PointsEntry.objects.get(key=f"earn:{program.pk}:{original.pk}")
    return -sum(entry.reversals.values_list("points", flat=True))


def test_api_batch_earns_for_new_rows_only(program, rm):
    customer = CustomerFactory(owner=rm)
    row = {
        "source": "shop",
        "external_id": "ORDER-1",
        "customer": customer.pk,
        "kind": "purchase",
        "amount": Decimal("128.50"),
        "currency": "CNY",
        "category": "dining",
        "channel": "store",
        "payment_method": "card",
        "merchant": "",
        "occurred_at": at(date(2026, 3, 10)),
    }
    transaction_batch_create(actor=rm, rows=[row])
    transaction_batch_create(actor=rm, rows=[row])  # sent again: stored and earned once

    assert balance(customer, program) == 128
    assert PointsEntry.objects.filter(kind=PointsEntry.Kind.EARN).count() == 1


def test_import_earns_per_chunk_in_set_based_sql(program):
    customer = SourceRecordFactory(source=Source.SHOP, external_id="SH-001").customer
    header = [
        "交易编号",
        "客户编号",
        "交易金额",
        "币种",
        "消费类别",
        "渠道",
        "商户名称",
        "交易时间",
    ]
    rows = [
        [f"T{n}", "SH-001", "100", "CNY", "餐饮", "门店", "海底捞", f"2026-03-{n + 1:02d} 10:00"]
        for n in range(5)
    ]
    content = csv_bytes([header, *rows])
    import_now(content, kind=ImportJob.Kind.TRANSACTIONS, source=Source.SHOP)
    import_now(content, kind=ImportJob.Kind.TRANSACTIONS, source=Source.SHOP)

    assert balance(customer, program) == 500
    assert PointsEntry.objects.count() == 5


def test_refund_after_partial_spend_leaves_a_visible_negative_balance(program):
    customer = CustomerFactory()
    original = purchase(customer, "1000.00")
    account = PointsAccount.objects.get(customer=customer, program=program)
    debit(account=account, kind=PointsEntry.Kind.REDEEM, points=800, key="spend")
    refund(original, "1000.00")

    assert balance(customer, program) == -800
    assert reversed_points(original, program) == 1000
    negative = PointsAccount.objects.filter(balance__lt=0)
    assert list(negative) == [account]


def test_negative_balance_accounts_is_scoped(program, rm, foreign_rm):
    mine = CustomerFactory(owner=rm)
    theirs = CustomerFactory(owner=foreign_rm)
    for customer in (mine, theirs):
        account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
        debit(
            account=account,
            kind=PointsEntry.Kind.ADJUST,
            points=5,
            key=f"minus-{customer.pk}",
            allow_negative=True,
        )

    assert [a.customer for a in negative_balance_accounts(user=rm)] == [mine]


def test_partial_refunds_never_reverse_more_than_was_earned(program):
    customer = CustomerFactory()
    original = purchase(customer, "300.00")
    refund(original, "100.00")
    assert reversed_points(original, program) == 100
    refund(original, "100.00")
    refund(original, "100.00")
    assert reversed_points(original, program) == 300
    refund(original, "300.00")  # more refunds than the purchase: nothing more to reverse

    assert reversed_points(original, program) == 300
    assert balance(customer, program) == 0


def test_partial_refunds_add_up_to_exactly_what_was_earned(program):
    customer = CustomerFactory()
    original = purchase(customer, "100.00")  # 100 points
    seen = []
    for _ in range(3):
        refund(original, "33.33")
        seen.append(reversed_points(original, program))
    assert seen == [33, 67, 100]  # by what is refunded so far: no rounding loss adds up
    refund(original, "0.01")

    assert reversed_points(original, program) == 100


def test_a_refund_in_the_same_batch_as_its_purchase(program):
    customer = CustomerFactory()
    original = purchase(customer, "200.00", earn=False)
    made = Transaction.objects.create(
        customer=customer,
        kind=Transaction.Kind.REFUND,
        amount=Decimal("50.00"),
        occurred_at=at(date(2026, 3, 11)),
        source=original.source,
        external_id="R-1",
        refund_of=original,
    )
    transactions_earn(transaction_ids=[original.pk, made.pk])

    assert balance(customer, program) == 150
    assert PointsEntry.objects.get(key=f"refund:{program.pk}:{made.pk}").points == -50


def test_review_bonus_once_per_review(program):
    rule(program, Kind.BONUS, interaction_kind=Interaction.Kind.REVIEW, points=50)
    customer = CustomerFactory()
    review = InteractionFactory(customer=customer, kind=Interaction.Kind.REVIEW)
    call = InteractionFactory(customer=customer, kind=Interaction.Kind.CALL)
    interactions_earn(interaction_ids=[review.pk, call.pk])
    interactions_stored.send(sender=Interaction, interaction_ids=[review.pk])

    assert balance(customer, program) == 50
    assert PointsEntry.objects.get().key == f"review:{program.pk}:{review.pk}"


def test_review_recorded_in_admin_earns_its_bonus(program, client, rm):
    rule(program, Kind.BONUS, interaction_kind=Interaction.Kind.REVIEW, points=50)
    customer = CustomerFactory(owner=rm)
    rm.is_superuser = True  # adding interactions is not the RM's permission here
    rm.save()
    client.force_login(rm)
    response = client.post(
        "/admin/crm/interaction/add/",
        {
            "customer": customer.pk,
            "kind": "review",
            "occurred_at_0": "2026-03-10",
            "occurred_at_1": "10:00:00",
            "summary": "Great service",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    assert balance(customer, program) == 50


def _earn_queries(count: int, program) -> int:
    customers = [CustomerFactory() for _ in range(3)]
    made = [
        purchase(customers[n % 3], "100.00", earn=False, when=at(date(2026, 3, 1 + n % 20)))
        for n in range(count)
    ]
    with CaptureQueriesContext(connection) as queries:
        transactions_earn(transaction_ids=[t.pk for t in made])
    assert all(earned(t, program) > 0 for t in made)
    return len(queries)


def test_earning_takes_the_same_number_of_queries_for_10_and_100_transactions(program):
    rule(program, Kind.CATEGORY, category="dining", multiplier=Decimal("2"))
    rule(program, Kind.FIRST_ORDER, multiplier=Decimal("3"))
    rule(program, Kind.DAILY_CAP, points=100000)

    assert _earn_queries(10, program) == _earn_queries(100, program)
