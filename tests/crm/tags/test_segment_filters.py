"""Segments over spend and last activity: the customer filter's set-based conditions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import Segment, Transaction
from crm.selectors import segment_customer_list
from tests.factories import CustomerFactory, InteractionFactory, TransactionFactory

pytestmark = pytest.mark.django_db


def purchase(customer, amount: str, *, days_ago: float = 1, **fields) -> Transaction:
    return TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        occurred_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


def selected(definition: dict, user) -> set[int]:
    segment = Segment(name="s", definition=definition)
    segment.full_clean()
    return set(segment_customer_list(segment=segment, user=user).values_list("pk", flat=True))


def test_spend_min_counts_net_spend_in_the_window(rm):
    exactly, below, refunded, too_old = CustomerFactory.create_batch(4, owner=rm)
    purchase(exactly, "5000.00")
    purchase(below, "4999.99")
    original = purchase(refunded, "9000.00")
    purchase(refunded, "1000.00", kind=Transaction.Kind.REFUND, refund_of=original)
    purchase(too_old, "9000.00", days_ago=40)

    assert selected({"spend_min": "5000", "spend_days": 30}, rm) == {exactly.pk, refunded.pk}
    assert too_old.pk in selected({"spend_min": 5000}, rm)  # 365 days unless given


def test_active_within_and_inactive_for_days_split_the_customers(rm):
    bought, called, silent, never = CustomerFactory.create_batch(4, owner=rm)
    purchase(bought, "10", days_ago=5)
    InteractionFactory(customer=called, occurred_at=timezone.now() - timedelta(days=29))
    purchase(silent, "10", days_ago=31)

    assert selected({"active_within_days": 30}, rm) == {bought.pk, called.pk}
    assert selected({"inactive_for_days": 30}, rm) == {silent.pk, never.pk}


@pytest.mark.parametrize(
    "definition",
    [
        {"spend_days": 30},
        {"spend_min": "-1"},
        {"spend_min": "lots"},
        {"active_within_days": 0},
        {"inactive_for_days": 99999},
        {"active_within_days": "a month"},
    ],
)
def test_bad_spend_or_activity_filters_are_refused(definition):
    segment = Segment(name="Broken", definition=definition)
    with pytest.raises(ValidationError) as error:
        segment.full_clean()
    assert "definition" in error.value.error_dict
