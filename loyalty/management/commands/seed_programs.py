"""The seed programs of DESIGN.md: a bank and a shop, five tiers each, example rewards and
tier benefits.

Idempotent by codes: programs by code, tiers by (program, rank). A tier's criteria are seeded
only while it has none, so a second run (or a `make demo` after a supervisor tuned the
thresholds) changes nothing.
"""

from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from loyalty.models import Benefit, Condition, CriterionGroup, Program, Reward, Tier

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
            f"conditions={Condition.objects.count()} rewards={Reward.objects.count()} "
            f"benefits={Benefit.objects.count()}"
        )
