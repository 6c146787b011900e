"""loyalty's writes become webhook events: points earned and redeemed, tiers changed."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import PointsEntry
from loyalty.services.evaluation import program_evaluate
from loyalty.services.ledger import account_get_or_create, credit, debit
from tests.factories import CustomerFactory, TransactionFactory
from tests.loyalty.factories import (
    ConditionFactory,
    CriterionGroupFactory,
    ProgramFactory,
    TierFactory,
)
from workflows.models import WebhookDelivery, WebhookEndpoint
from workflows.models.webhooks import EventType

pytestmark = pytest.mark.django_db


def subscribe(*events):
    return WebhookEndpoint.objects.create(name="erp", url="http://127.0.0.1:9/", events=events)


def test_points_earned_and_redeemed_are_events():
    hook = subscribe(EventType.POINTS_EARNED, EventType.POINTS_REDEEMED)
    customer = CustomerFactory()
    account = account_get_or_create(customer_id=customer.pk, program_id=ProgramFactory().pk)

    earned = credit(
        account=account,
        kind=PointsEntry.Kind.EARN,
        points=100,
        key="e1",
        expires_on=date(2030, 1, 1),
    ).entry
    redeemed = debit(account=account, kind=PointsEntry.Kind.REDEEM, points=30, key="r1").entry
    # A retried posting finds its entry: no second event.
    credit(
        account=account,
        kind=PointsEntry.Kind.EARN,
        points=100,
        key="e1",
        expires_on=date(2030, 1, 1),
    )

    rows = {row.event_type: row for row in WebhookDelivery.objects.filter(endpoint=hook)}
    assert WebhookDelivery.objects.count() == 2
    assert rows["points.earned"].payload["data"] == {
        "entry_id": earned.pk,
        "customer_id": customer.pk,
        "program_id": account.program_id,
        "points": 100,
        "occurred_on": earned.occurred_on.isoformat(),
        "expires_on": "2030-01-01",
    }
    assert rows["points.redeemed"].payload["data"]["entry_id"] == redeemed.pk
    assert rows["points.redeemed"].payload["data"]["points"] == 30


def test_an_adjustment_is_no_points_event():
    subscribe(EventType.POINTS_EARNED, EventType.POINTS_REDEEMED)
    account = account_get_or_create(
        customer_id=CustomerFactory().pk, program_id=ProgramFactory().pk
    )
    credit(
        account=account,
        kind=PointsEntry.Kind.ADJUST,
        points=5,
        key="a",
        expires_on=date(2030, 1, 1),
    )
    assert not WebhookDelivery.objects.exists()


def test_points_posted_with_nobody_subscribed_cost_no_extra_query(django_assert_num_queries):
    account = account_get_or_create(
        customer_id=CustomerFactory().pk, program_id=ProgramFactory().pk
    )
    earn = {"account": account, "kind": PointsEntry.Kind.EARN, "expires_on": date(2030, 1, 1)}
    credit(points=1, key="warm", **earn)
    subscribe(EventType.TIER_CHANGED)  # someone listens, but not to points
    credit(points=1, key="refill", **earn)  # the cache is read again once
    with django_assert_num_queries(5):  # savepoint, balance, entry, lot, release
        credit(points=1, key="k", **earn)
    assert not WebhookDelivery.objects.exists()


def test_earning_on_new_transactions_emits_one_event_per_entry():
    from tests.loyalty.points.earning_helpers import bank, base, purchase

    program = bank()
    base(program, rate="1")
    hook = subscribe(EventType.POINTS_EARNED)
    customer = CustomerFactory()
    first = purchase(customer, "100.00")
    purchase(customer, "50.00")

    rows = sorted(
        (d.payload["data"]["points"], d.payload["data"]["customer_id"])
        for d in WebhookDelivery.objects.filter(endpoint=hook)
    )
    assert rows == [(50, customer.pk), (100, customer.pk)]
    # Earning the same transaction again creates no entry and no event.
    from loyalty.services.earning import transactions_earn

    transactions_earn(transaction_ids=[first.pk])
    assert WebhookDelivery.objects.count() == 2


def test_a_tier_change_of_the_nightly_run_is_an_event():
    program = ProgramFactory(code="bank")
    CriterionGroupFactory(tier=TierFactory(program=program, rank=1, name="Member"), name="all")
    gold = TierFactory(program=program, rank=3, name="Gold")
    ConditionFactory(group=CriterionGroupFactory(tier=gold, name="card spend"))
    customer, other = CustomerFactory(), CustomerFactory()
    as_of = timezone.localdate()
    program_evaluate(program_id=program.pk, as_of=as_of)  # both join as members: no event
    hook = subscribe(EventType.TIER_CHANGED)
    assert not WebhookDelivery.objects.exists()

    TransactionFactory(
        customer=customer,
        amount=Decimal("30000"),
        payment_method="card",
        occurred_at=timezone.make_aware(datetime.combine(as_of, time(12))),
    )
    program_evaluate(program_id=program.pk, as_of=as_of + timedelta(days=1))
    program_evaluate(program_id=program.pk, as_of=as_of + timedelta(days=1))  # done: nothing

    delivery = WebhookDelivery.objects.get(endpoint=hook)
    data = delivery.payload["data"]
    assert delivery.event_type == "tier.changed"
    assert (data["customer_id"], data["kind"]) == (customer.pk, "upgrade")
    assert (data["from_tier"]["name"], data["to_tier"]["name"]) == ("Member", "Gold")
    assert other.pk != customer.pk
