"""The seed programs of DESIGN.md: a bank and a shop, five tiers each, example rewards and
tier benefits.

Idempotent by codes: programs by code, tiers by (program, rank). A tier's criteria are seeded
only while it has none, so a second run (or a `make demo` after a supervisor tuned the
thresholds) changes nothing.
"""

from datetime import time
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from loyalty.models import (
    Benefit,
    Condition,
    CriterionGroup,
    EarningRule,
    Program,
    Reward,
    Tier,
)

# (metric, window_months, operator, threshold, parameters)
ConditionSeed = tuple[str, int | None, str, str, dict[str, str]]
# rank -> (name, name_zh_hans, {group name: [conditions]}); an empty list: always holds.
TierSeed = tuple[str, str, dict[str, list[ConditionSeed]]]

CARD = {"payment_method": "card"}

BANK: dict[int, TierSeed] = {
    1: ("Classic", "普卡", {"Everyone": []}),
    2: (
        "Silver",
        "银卡",
        {
            "Assets": [("average_daily_assets", 3, ">=", "10000", {})],
            "Card spend": [("spend", 12, ">=", "10000", CARD)],
            "Products": [("intermediate_products", None, ">=", "1", {})],
            "Card repayments": [("transactions_of_kind", 1, ">=", "3", {"kind": "card_repayment"})],
        },
    ),
    3: (
        "Gold",
        "金卡",
        {
            "Assets": [("average_daily_assets", 3, ">=", "50000", {})],
            "Card spend": [("spend", 12, ">=", "30000", CARD)],
            "Products": [("intermediate_products", None, ">=", "2", {})],
        },
    ),
    4: (
        "Platinum",
        "白金卡",
        {
            "Assets": [
                ("average_daily_assets", 3, ">=", "200000", {}),
                ("months_without_credit_event", None, ">=", "6", {}),
            ],
            "Card spend and products": [
                ("spend", 12, ">=", "100000", CARD),
                ("intermediate_products", None, ">=", "3", {}),
            ],
        },
    ),
    5: (
        "Diamond",
        "钻石卡",
        {
            "Assets": [
                ("average_daily_assets", 3, ">=", "1000000", {}),
                ("months_without_credit_event", None, ">=", "12", {}),
            ],
        },
    ),
}

SHOP: dict[int, TierSeed] = {
    1: ("Member", "普通会员", {"Everyone": []}),
    2: (
        "Silver",
        "银卡会员",
        {
            "Spend": [("spend", 12, ">=", "2000", {})],
            "Orders": [("orders", 12, ">=", "10", {})],
        },
    ),
    3: (
        "Gold",
        "金卡会员",
        {
            "Spend and orders": [
                ("spend", 12, ">=", "8000", {}),
                ("orders", 12, ">=", "30", {}),
            ],
            "Reviews": [("quality_reviews", 12, ">=", "5", {})],
        },
    ),
    4: (
        "Platinum",
        "白金会员",
        {
            "Spend and orders": [
                ("spend", 12, ">=", "30000", {}),
                ("orders", 12, ">=", "60", {}),
            ],
        },
    ),
    5: (
        "Diamond",
        "钻石会员",
        {
            "Spend and orders": [
                ("spend", 12, ">=", "100000", {}),
                ("orders", 12, ">=", "100", {}),
            ],
        },
    ),
}

# The earning rules of DESIGN.md / the issue, by name: {field: value}; "tier_rank" names a tier.
RuleSeed = dict[str, Any]
BANK_RULES: list[RuleSeed] = [
    {"kind": "base", "name": "Base rate: 1 point per CNY", "points_per_unit": "1"},
    {"kind": "category", "name": "Dining x2", "category": "dining", "multiplier": "2"},
    {"kind": "category", "name": "Supermarkets x2", "category": "supermarket", "multiplier": "2"},
    {
        "kind": "time_window",
        "name": "Friday afternoon +15%",
        "weekday": 4,
        "starts_at": time(12),
        "ends_at": time(18),
        "multiplier": "1.15",
    },
    {"kind": "tier", "name": "Gold x1.2", "tier_rank": 3, "multiplier": "1.2"},
    {"kind": "tier", "name": "Platinum x1.5", "tier_rank": 4, "multiplier": "1.5"},
    {"kind": "tier", "name": "Diamond x2", "tier_rank": 5, "multiplier": "2"},
    {"kind": "first_order", "name": "First order x3", "multiplier": "3"},
    {
        "kind": "bonus",
        "name": "Card repayment of 5,000 or more +500",
        "transaction_kind": "card_repayment",
        "min_amount": "5000",
        "points": 500,
    },
    {"kind": "daily_cap", "name": "At most 20,000 points a day", "points": 20000},
]
SHOP_RULES: list[RuleSeed] = [
    {"kind": "base", "name": "Base rate: 1 point per CNY", "points_per_unit": "1"},
    {"kind": "bonus", "name": "Quality review +50", "interaction_kind": "review", "points": 50},
    # A suggestion the team adopted (workflows.feedback.suggestions): once per adoption.
    {
        "kind": "bonus",
        "name": "Adopted suggestion +200",
        "interaction_kind": "suggestion",
        "points": 200,
    },
]
RULES = {"bank": BANK_RULES, "shop": SHOP_RULES}

PROGRAMS: dict[str, tuple[str, str, dict[int, TierSeed]]] = {
    "bank": ("Bank", "银行", BANK),
    "shop": ("Shop", "商城", SHOP),
}


@transaction.atomic
def programs_seed() -> None:
    for code, (name, name_zh_hans, tiers) in PROGRAMS.items():
        program, _ = Program.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh_hans": name_zh_hans}
        )
        for rank, (tier_name, tier_name_zh_hans, groups) in tiers.items():
            tier, _ = Tier.objects.get_or_create(
                program=program,
                rank=rank,
                defaults={"name": tier_name, "name_zh_hans": tier_name_zh_hans},
            )
            if tier.groups.exists():
                continue
            for group_name, conditions in groups.items():
                group = CriterionGroup.objects.create(tier=tier, name=group_name)
                for metric, window_months, operator, threshold, parameters in conditions:
                    condition = Condition(
                        group=group,
                        metric=metric,
                        window_months=window_months,
                        operator=operator,
                        threshold=Decimal(threshold),
                        parameters=parameters,
                    )
                    condition.full_clean()
                    condition.save()
        _rules_seed(program, RULES.get(code, []))


def _rules_seed(program: Program, seeds: list[RuleSeed]) -> None:
    """A program's example rules, each by name, only while the program has none: a supervisor's
    own rules (or deletions) are never undone by a second run."""
    if program.earning_rules.exists():
        return
    tiers = {tier.rank: tier for tier in program.tiers.all()}
    for seed in seeds:
        values = dict(seed)
        if "tier_rank" in values:
            values["tier"] = tiers[values.pop("tier_rank")]
        for number in ("points_per_unit", "multiplier", "min_amount"):
            if number in values:
                values[number] = Decimal(values[number])
        rule = EarningRule(program=program, **values)
        rule.full_clean()
        rule.save()


# program code -> (name, name_zh_hans, points price, value in CNY, stock or None, lowest rank)
RewardSeed = tuple[str, str, int, str, int | None, int | None]
REWARDS: dict[str, list[RewardSeed]] = {
    "bank": [
        ("Coffee voucher (50 CNY)", "咖啡券（50元）", 1_000, "50.00", None, None),
        ("Two cinema tickets", "电影票两张", 2_000, "90.00", 500, None),
        ("Airport transfer", "机场接送", 8_000, "300.00", 100, 3),
    ],
    "shop": [
        ("Shopping voucher (20 CNY)", "购物券（20元）", 400, "20.00", None, None),
        ("Bluetooth speaker", "蓝牙音箱", 6_000, "299.00", 50, 2),
    ],
}

# program code -> (tier rank, code, name, name_zh_hans, quota or None, period, discount %)
BenefitSeed = tuple[int, str, str, str, int | None, str, str | None]
BENEFITS: dict[str, list[BenefitSeed]] = {
    "bank": [
        (3, "health-check", "3 free health checks a year", "每年3次免费体检", 3, "year", None),
        (
            4,
            "airport-lounge",
            "Airport lounge, 6 times a year",
            "机场贵宾厅每年6次",
            6,
            "year",
            None,
        ),
    ],
    "shop": [
        (
            2,
            "free-shipping",
            "2 free-shipping vouchers a month",
            "每月2张免运费券",
            2,
            "month",
            None,
        ),
        (3, "subscription-discount", "Subscription fee 50% off", "会员费五折", None, "year", "50"),
    ],
}


@transaction.atomic
def rewards_and_benefits_seed() -> None:
    """Example rewards and tier benefits; idempotent by (program, name) and (tier, code), and
    a row a supervisor changed is left as it is."""
    for code, rewards in REWARDS.items():
        program = Program.objects.get(code=code)
        for name, name_zh_hans, price, value, stock, rank in rewards:
            Reward.objects.get_or_create(
                program=program,
                name=name,
                defaults={
                    "name_zh_hans": name_zh_hans,
                    "points_price": price,
                    "value": Decimal(value),
                    "stock": stock,
                    "min_tier": program.tiers.get(rank=rank) if rank else None,
                },
            )
    for code, benefits in BENEFITS.items():
        for rank, benefit_code, name, name_zh_hans, quota, period, discount in benefits:
            Benefit.objects.get_or_create(
                tier=Tier.objects.get(program__code=code, rank=rank),
                code=benefit_code,
                defaults={
                    "name": name,
                    "name_zh_hans": name_zh_hans,
                    "quota": quota,
                    "period": period,
                    "discount_percent": Decimal(discount) if discount else None,
                },
            )


class Command(BaseCommand):
    help = (
        "Create the bank and shop loyalty programs, their tiers, example rewards and tier "
        "benefits (idempotent)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        programs_seed()
        rewards_and_benefits_seed()
        self.stdout.write(
            f"programs={Program.objects.count()} tiers={Tier.objects.count()} "
            f"conditions={Condition.objects.count()} "
            f"earning_rules={EarningRule.objects.count()} rewards={Reward.objects.count()} "
            f"benefits={Benefit.objects.count()}"
        )
