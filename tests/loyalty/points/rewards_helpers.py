"""Shared givens of the reward and benefit tests: a program with tiers, points, rewards."""

from datetime import date
from decimal import Decimal

from loyalty.models import Benefit, PointsAccount, PointsEntry, Program, Reward
from loyalty.services.ledger import account_get_or_create, credit
from tests.loyalty.factories import tiered_program


def bank() -> Program:
    """Member (1★), Silver (2★), Gold (3★)."""
    return tiered_program("bank", "Bank")


def earn(customer, program, points: int, *, key: str, expires_on=date(2099, 1, 1)):
    account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    return credit(
        account=account,
        kind=PointsEntry.Kind.EARN,
        points=points,
        key=key,
        expires_on=expires_on,
    ).entry


def balance(customer, program) -> int:
    return (
        PointsAccount.objects.filter(customer=customer, program=program)
        .values_list("balance", flat=True)
        .first()
        or 0
    )


def reward(program: Program, **fields) -> Reward:
    values = {
        "name": "Tea set",
        "name_zh_hans": "茶具",
        "points_price": 100,
        "value": Decimal("50.00"),
        "stock": None,
        **fields,
    }
    return Reward.objects.create(program=program, **values)


def benefit(program: Program, *, rank: int, **fields) -> Benefit:
    values = {
        "code": "health-check",
        "name": "Free health check",
        "quota": 3,
        "period": Benefit.Period.YEAR,
        **fields,
    }
    return Benefit.objects.create(tier=program.tiers.get(rank=rank), **values)
