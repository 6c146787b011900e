"""factory_boy factories for the crm models."""

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from crm import roles
from crm.models import (
    BalanceSnapshot,
    Consent,
    CreditEvent,
    Customer,
    Interaction,
    Preference,
    ProductHolding,
    Source,
    SourceRecord,
    Tag,
    Team,
    TeamMembership,
    Transaction,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-123")
    is_staff = True


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


def make_rm(team: Team | None = None, **kwargs) -> object:
    """A relationship manager in a team, with the role's group."""
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=roles.RELATIONSHIP_MANAGER))
    TeamMembership.objects.create(team=team or TeamFactory(), user=user)
    return user


def make_supervisor(team: Team, **kwargs) -> object:
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=roles.SUPERVISOR))
    TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.SUPERVISOR)
    return user


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"王小明{n}")
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    birth_date = date(1988, 5, 17)
    owner = None
    team = factory.LazyAttribute(
        lambda o: Team.objects.filter(teammembership__user=o.owner).first() if o.owner else None
    )


class SourceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SourceRecord

    customer = factory.SubFactory(CustomerFactory)
    source = Source.CORE_BANKING
    external_id = factory.Sequence(lambda n: f"CB{n:08d}")


class TransactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Transaction

    customer = factory.SubFactory(CustomerFactory)
    amount = Decimal("128.50")
    currency = "CNY"
    category = Transaction.Category.DINING
    occurred_at = factory.LazyFunction(timezone.now)
    source = Source.SHOP
    external_id = factory.Sequence(lambda n: f"T{n:010d}")


class BalanceSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BalanceSnapshot

    customer = factory.SubFactory(CustomerFactory)
    date = factory.Sequence(lambda n: date.fromordinal(date(2026, 1, 1).toordinal() + n))
    amount = Decimal("52000.00")


class ProductHoldingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductHolding

    customer = factory.SubFactory(CustomerFactory)
    product_type = ProductHolding.ProductType.FUND
    product_name = "稳健增长混合基金"
    amount = Decimal("20000.00")
    opened_on = date(2025, 6, 1)
    source = Source.CORE_BANKING
    external_id = factory.Sequence(lambda n: f"H{n:08d}")


class CreditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreditEvent

    customer = factory.SubFactory(CustomerFactory)
    kind = CreditEvent.Kind.OVERDUE_LOAN
    severity = CreditEvent.Severity.SERIOUS
    occurred_at = factory.LazyFunction(timezone.now)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    kind = Interaction.Kind.CALL
    summary = "电话回访：客户对理财产品满意"


class PreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Preference

    customer = factory.SubFactory(CustomerFactory)
    text = "无烟房，靠近电梯"


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    customer = factory.SubFactory(CustomerFactory)
    channel = Consent.Channel.SMS
    is_granted = True
    granted_at = factory.LazyFunction(timezone.now)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag {n}")
