"""Ledger states for the report tests, posted through the ledger's primitives."""

from datetime import date
from decimal import Decimal

from loyalty.models import PointsAccount, PointsEntry, Program
from loyalty.services.ledger import account_get_or_create, credit, debit
from tests.factories import CustomerFactory
from tests.loyalty.factories import member, tiered_program

Kind = PointsEntry.Kind


def account(program: Program, *, owner=None, rank: int | None = None) -> PointsAccount:
    customer = CustomerFactory(owner=owner)
    if rank is not None:
        member(customer, program, rank)
    return account_get_or_create(customer_id=customer.pk, program_id=program.pk)


def earn(points_account, points, key, *, expires_on=date(2027, 6, 1), occurred_on=None):
    return credit(
        account=points_account,
        kind=Kind.EARN,
        points=points,
        key=key,
        expires_on=expires_on,
        occurred_on=occurred_on,
    ).entry


def add(points_account, points, key, *, kind, expires_on=date(2027, 6, 1), **fields):
    """A credit other than an earning: a cancellation (reverse) or an adjustment."""
    return credit(
        account=points_account,
        kind=kind,
        points=points,
        key=key,
        expires_on=expires_on,
        **fields,
    ).entry


def spend(points_account, points, key, *, kind=Kind.REDEEM, occurred_on=None, **fields):
    return debit(
        account=points_account,
        kind=kind,
        points=points,
        key=key,
        occurred_on=occurred_on,
        **fields,
    ).entry


def liability_programs(*, owner=None, foreign_owner=None) -> tuple[Program, Program]:
    """The hand-computed state of test_reports_liability (today: 15 July 2026).

    bank (one point = 0.02): Gold 1,500 + 200; Member 700; not evaluated 50 (overdue);
    Silver -80 (a debt); a Gold account at 0. shop (0.01): 400, not evaluated, of
    `foreign_owner`'s customer.
    """
    bank = tiered_program("bank", "Bank")
    Program.objects.filter(pk=bank.pk).update(point_value=Decimal("0.0200"))
    bank.refresh_from_db()
    first = account(bank, owner=owner, rank=3)
    earn(first, 1000, "g1-a", expires_on=date(2026, 8, 15))
    earn(first, 500, "g1-b", expires_on=date(2027, 2, 10))
    second = account(bank, owner=owner, rank=3)
    earn(second, 300, "g2-a", expires_on=date(2026, 8, 20))
    spend(second, 100, "g2-r")
    earn(account(bank, owner=owner, rank=1), 700, "m1", expires_on=date(2028, 3, 1))
    earn(account(bank, owner=owner), 50, "n1", expires_on=date(2026, 6, 30))
    debtor = account(bank, owner=owner, rank=2)
    earned = earn(debtor, 100, "s1-e")
    spend(debtor, 80, "s1-r")
    spend(
        debtor,
        100,
        "s1-refund",
        kind=Kind.REVERSE,
        allow_negative=True,
        first_lot_id=earned.pk,
        reverses=earned,
    )
    empty = account(bank, owner=owner, rank=3)
    earn(empty, 10, "z-e")
    spend(empty, 10, "z-r")
    shop = tiered_program("shop", "Shop")
    earn(account(shop, owner=foreign_owner), 400, "shop-1", expires_on=date(2026, 7, 31))
    return bank, shop
