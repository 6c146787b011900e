"""factory_boy factories for the loyalty models."""

from datetime import date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import factory

from crm.models import Customer
from loyalty.models import Condition, CriterionGroup, Membership, Program, Tier
from tests.factories import CustomerFactory, ProductHoldingFactory, TransactionFactory


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"program-{n}")
    name = factory.Sequence(lambda n: f"Program {n}")
    name_zh_hans = "计划"


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    program = factory.SubFactory(ProgramFactory)
    rank = 3
    name = "Gold"
    name_zh_hans = "金卡"


class CriterionGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CriterionGroup

    tier = factory.SubFactory(TierFactory)
    name = "Card spend"


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    group = factory.SubFactory(CriterionGroupFactory)
    metric = "spend"
    window_months = 12
    operator = Condition.Operator.GTE
    threshold = Decimal("30000.00")
    parameters = factory.LazyFunction(lambda: {"payment_method": "card"})


# -- a program with three tiers, and customers in it (explanations, panel, API) --------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def tiered_program(code: str = "bank", name: str = "Bank") -> Program:
    """Member (1★, everyone); Silver (2★): >= 2 intermediate products; Gold (3★): card spend
    >= 30,000 over 12 months OR (spend >= 8,000 AND >= 3 orders over 12 months)."""
    program = ProgramFactory(code=code, name=name)
    CriterionGroupFactory(tier=TierFactory(program=program, rank=1, name="Member"), name="all")
    silver = TierFactory(program=program, rank=2, name="Silver")
    ConditionFactory(
        group=CriterionGroupFactory(tier=silver, name="products"),
        metric="intermediate_products",
        window_months=None,
        threshold=Decimal("2"),
        parameters={},
    )
    gold = TierFactory(program=program, rank=3, name="Gold")
    ConditionFactory(group=CriterionGroupFactory(tier=gold, name="card spend"))
    shop = CriterionGroupFactory(tier=gold, name="shop")
    ConditionFactory(group=shop, threshold=Decimal("8000"), parameters={})
    ConditionFactory(group=shop, metric="orders", threshold=Decimal("3"), parameters={})
    return program


def customer_since_2025(**kwargs) -> Customer:
    return CustomerFactory(created_at=datetime(2025, 1, 1, tzinfo=SHANGHAI), **kwargs)


def spend(customer: Customer, amount: str, *, on: date = date(2026, 3, 10), method: str = "card"):
    return TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        payment_method=method,
        occurred_at=datetime.combine(on, time(12), tzinfo=SHANGHAI),
    )


def products(customer: Customer, count: int) -> None:
    for _ in range(count):
        ProductHoldingFactory(customer=customer)


def member(customer: Customer, program: Program, rank: int, **kwargs) -> Membership:
    return Membership.objects.create(
        customer=customer,
        program=program,
        tier=program.tiers.get(rank=rank),
        since=date(2025, 6, 1),
        **kwargs,
    )
