"""Helpers for the earning tests: a bank program with rules, purchases, balances."""

from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Sum

from crm.models import Transaction
from loyalty.models import EarningRule, PointsAccount, PointsEntry, PointsLot
from loyalty.services.earning import transactions_earn
from tests.factories import TransactionFactory
from tests.loyalty.factories import SHANGHAI, ProgramFactory, TierFactory

Kind = EarningRule.Kind
FRIDAY = date(2026, 3, 13)


def bank(code="bank", **kwargs):
    return ProgramFactory(code=code, name=code.title(), **kwargs)


def rule(program, kind, **fields) -> EarningRule:
    fields.setdefault("name", kind)
    created = EarningRule(program=program, kind=kind, **fields)
    created.full_clean()
    created.save()
    return created


def base(program, rate="1", **fields):
    return rule(program, Kind.BASE, points_per_unit=Decimal(rate), **fields)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def purchase(customer, amount="100.00", *, when=None, earn=True, **fields) -> Transaction:
    fields.setdefault("category", Transaction.Category.OTHER)
    made = TransactionFactory(
        customer=customer,
        amount=Decimal(amount),
        occurred_at=when or at(date(2026, 3, 10)),
        **fields,
    )
    if earn:
        transactions_earn(transaction_ids=[made.pk])
    return made


def earned(transaction, program) -> int:
    entry = PointsEntry.objects.filter(key=f"earn:{program.pk}:{transaction.pk}").first()
    return entry.points if entry else 0


def balance(customer, program) -> int:
    account = PointsAccount.objects.filter(customer=customer, program=program).first()
    if account is None:
        return 0
    total = account.entries.aggregate(total=Sum("points"))["total"] or 0
    lots = PointsLot.objects.filter(account=account).aggregate(total=Sum("remaining"))["total"]
    assert account.balance == total  # the ledger's invariants hold after every pass
    assert (lots or 0) == max(total, 0)
    return account.balance


def tier(program, rank):
    return TierFactory(program=program, rank=rank, name=f"{rank} stars")
