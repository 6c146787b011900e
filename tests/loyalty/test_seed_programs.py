"""The seed programs: the bank and the shop of DESIGN.md, seeded once however often run."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from loyalty.models import Condition, CriterionGroup, Program, Tier

pytestmark = pytest.mark.django_db


def _rows() -> tuple[list, list, list, list]:
    return (
        list(Program.objects.values_list("code", "name", "name_zh_hans")),
        list(Tier.objects.values_list("program__code", "rank", "name", "name_zh_hans")),
        list(CriterionGroup.objects.values_list("id", "tier_id", "name")),
        list(
            Condition.objects.values_list(
                "id", "group_id", "metric", "window_months", "operator", "threshold", "parameters"
            )
        ),
    )


def test_seed_programs_twice_leaves_the_same_rows():
    call_command("seed_programs")
    first = _rows()
    call_command("seed_programs")
    assert _rows() == first
    assert [code for code, *_ in first[0]] == ["bank", "shop"]
    assert Tier.objects.filter(program__code="bank").count() == 5


def test_seed_programs_keeps_a_threshold_a_supervisor_changed():
    call_command("seed_programs")
    condition = Condition.objects.get(
        group__tier__program__code="bank", group__tier__rank=3, metric="average_daily_assets"
    )
    condition.threshold = Decimal("80000")
    condition.save(update_fields=["threshold"])
    call_command("seed_programs")
    condition.refresh_from_db()
    assert condition.threshold == Decimal("80000")


def test_bank_gold_is_assets_or_card_spend_or_products():
    call_command("seed_programs")
    gold = Tier.objects.get(program__code="bank", rank=3)
    groups = {
        group.name: [
            (c.metric, c.window_months, c.operator, c.threshold, c.parameters)
            for c in group.conditions.all()
        ]
        for group in gold.groups.all()
    }
    assert (gold.name, gold.name_zh_hans) == ("Gold", "金卡")
    assert groups == {
        "Assets": [("average_daily_assets", 3, ">=", Decimal("50000"), {})],
        "Card spend": [("spend", 12, ">=", Decimal("30000"), {"payment_method": "card"})],
        "Products": [("intermediate_products", None, ">=", Decimal("2"), {})],
    }


def test_shop_gold_is_spend_and_orders_or_reviews():
    call_command("seed_programs")
    gold = Tier.objects.get(program__code="shop", rank=3)
    groups = {
        group.name: sorted((c.metric, c.window_months, c.threshold) for c in group.conditions.all())
        for group in gold.groups.all()
    }
    assert groups == {
        "Spend and orders": [("orders", 12, Decimal("30")), ("spend", 12, Decimal("8000"))],
        "Reviews": [("quality_reviews", 12, Decimal("5"))],
    }


def test_base_tier_has_one_group_without_conditions():
    call_command("seed_programs")
    for program in Program.objects.all():
        base = program.tiers.get(rank=1)
        assert [group.conditions.count() for group in base.groups.all()] == [0]


@pytest.mark.django_db
def test_seed_programs_adds_the_example_earning_rules_once():
    from loyalty.models import EarningRule

    call_command("seed_programs")
    first = sorted(EarningRule.objects.values_list("program__code", "kind", "name"))
    call_command("seed_programs")

    assert sorted(EarningRule.objects.values_list("program__code", "kind", "name")) == first
    assert ("bank", "first_order", "First order x3") in first
    assert ("shop", "bonus", "Quality review +50") in first


@pytest.mark.django_db
def test_seed_programs_adds_example_rewards_and_benefits_once():
    from loyalty.models import Benefit, Reward

    call_command("seed_programs")
    call_command("seed_programs")

    assert Reward.objects.filter(program__code="bank").count() == 3
    assert Reward.objects.filter(program__code="shop").count() == 2
    checks = Benefit.objects.get(tier__program__code="bank", code="health-check")
    assert (checks.tier.rank, checks.quota, checks.period) == (3, 3, "year")
    lounge = Benefit.objects.get(tier__program__code="bank", code="airport-lounge")
    assert (lounge.tier.rank, lounge.quota, lounge.period) == (4, 6, "year")
    shipping = Benefit.objects.get(tier__program__code="shop", code="free-shipping")
    assert (shipping.quota, shipping.period) == (2, "month")
    discount = Benefit.objects.get(tier__program__code="shop", code="subscription-discount")
    assert discount.quota is None
    assert discount.discount_percent == Decimal("50")
