"""Saving a program's thresholds: all or nothing, the program's conditions only."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from loyalty.models import Condition
from loyalty.services.conditions import condition_thresholds_update
from tests.loyalty.factories import ConditionFactory, CriterionGroupFactory, TierFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def gold():
    return ConditionFactory(threshold=Decimal("30000"))


@pytest.fixture
def orders(gold):
    return ConditionFactory(group=gold.group, metric="orders", threshold=Decimal("3"))


def thresholds_of(*conditions: Condition) -> list[Decimal]:
    return [Condition.objects.get(pk=condition.pk).threshold for condition in conditions]


def test_only_the_changed_thresholds_are_written(gold, orders, django_assert_num_queries):
    program_id = gold.group.tier.program_id

    # The savepoint, the locked read of the program's conditions, one UPDATE, the release.
    with django_assert_num_queries(4):
        changed = condition_thresholds_update(
            program_id=program_id, thresholds={gold.pk: Decimal("40000"), orders.pk: Decimal(3)}
        )

    assert [condition.pk for condition in changed] == [gold.pk]
    assert thresholds_of(gold, orders) == [Decimal("40000.00"), Decimal("3.00")]


def test_a_condition_of_another_program_is_refused(gold):
    other = ConditionFactory(group=CriterionGroupFactory(tier=TierFactory(rank=2)))

    with pytest.raises(ValidationError) as error:
        condition_thresholds_update(
            program_id=gold.group.tier.program_id,
            thresholds={gold.pk: Decimal("1"), other.pk: Decimal("1")},
        )

    assert error.value.code == "unknown_condition"
    assert thresholds_of(gold, other) == [Decimal("30000.00"), Decimal("30000.00")]


@pytest.mark.parametrize(
    ("value", "code"),
    [(Decimal("-0.01"), "negative_threshold"), (Decimal("1.001"), "max_decimal_places")],
)
def test_an_invalid_threshold_writes_nothing(gold, orders, value, code):
    with pytest.raises(ValidationError) as error:
        condition_thresholds_update(
            program_id=gold.group.tier.program_id,
            thresholds={gold.pk: Decimal("1"), orders.pk: value},
        )

    assert error.value.code == code
    assert thresholds_of(gold, orders) == [Decimal("30000.00"), Decimal("3.00")]


def test_a_change_since_the_preview_writes_nothing(gold, orders):
    previewed = {gold.pk: Decimal("30000"), orders.pk: Decimal("3")}
    Condition.objects.filter(pk=orders.pk).update(threshold=Decimal("5"))

    with pytest.raises(ValidationError) as error:
        condition_thresholds_update(
            program_id=gold.group.tier.program_id,
            thresholds={gold.pk: Decimal("40000"), orders.pk: Decimal("3")},
            expected=previewed,
        )

    assert error.value.code == "changed_since_preview"
    assert thresholds_of(gold, orders) == [Decimal("30000.00"), Decimal("5.00")]


def test_a_condition_added_since_the_preview_writes_nothing(gold):
    previewed = {gold.pk: Decimal("30000")}
    ConditionFactory(group=gold.group, metric="orders", threshold=Decimal("3"))

    with pytest.raises(ValidationError) as error:
        condition_thresholds_update(
            program_id=gold.group.tier.program_id,
            thresholds={gold.pk: Decimal("40000")},
            expected=previewed,
        )

    assert error.value.code == "changed_since_preview"
    assert thresholds_of(gold) == [Decimal("30000.00")]
