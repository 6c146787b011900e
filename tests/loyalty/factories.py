"""factory_boy factories for the loyalty models."""

from decimal import Decimal

import factory

from loyalty.models import Condition, CriterionGroup, Program, Tier


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
