"""Programs, tiers and conditions: what a supervisor may save."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import translation

from loyalty.models import Condition
from tests.loyalty.factories import ConditionFactory, CriterionGroupFactory, TierFactory

pytestmark = pytest.mark.django_db


def _condition(**kwargs) -> Condition:
    defaults = {
        "group": CriterionGroupFactory(),
        "metric": "spend",
        "window_months": 12,
        "threshold": Decimal("30000"),
        "parameters": {"payment_method": "card"},
    }
    return Condition(**{**defaults, **kwargs})


def test_condition_with_known_parameters_is_valid():
    _condition().full_clean()


def test_condition_refuses_an_unknown_parameter():
    with pytest.raises(ValidationError) as error:
        _condition(parameters={"merchant": "Starbucks"}).full_clean()
    assert error.value.error_dict["parameters"][0].code == "unknown_parameter"


def test_condition_refuses_a_parameter_value_the_metric_does_not_know():
    with pytest.raises(ValidationError) as error:
        _condition(parameters={"payment_method": "bitcoin"}).full_clean()
    assert error.value.error_dict["parameters"][0].code == "invalid_parameter"


def test_condition_refuses_an_unknown_metric():
    with pytest.raises(ValidationError) as error:
        _condition(metric="shoe_size").full_clean()
    assert "metric" in error.value.error_dict


def test_condition_refuses_a_window_on_a_metric_of_one_day():
    with pytest.raises(ValidationError) as error:
        _condition(metric="intermediate_products", parameters={}).full_clean()
    assert error.value.error_dict["window_months"][0].code == "window_not_allowed"


def test_condition_needs_a_window_on_a_metric_over_time():
    with pytest.raises(ValidationError) as error:
        _condition(window_months=None).full_clean()
    assert error.value.error_dict["window_months"][0].code == "window_required"


def test_condition_reads_as_its_rule():
    condition = ConditionFactory(threshold=Decimal("30000.00"))
    assert str(condition) == "Spend (payment_method=card) / 12m >= 30000.00"


def test_tier_rank_is_unique_per_program():
    tier = TierFactory(rank=3)
    with pytest.raises(IntegrityError):
        TierFactory(program=tier.program, rank=3)


def test_tier_rank_above_five_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        TierFactory(rank=6)


def test_tier_name_follows_the_active_language():
    tier = TierFactory(name="Gold", name_zh_hans="金卡")
    with translation.override("zh-hans"):
        assert tier.display_name == "金卡"
    with translation.override("en"):
        assert tier.display_name == "Gold"
