"""Nightly expiry: oldest first, once per lot, in batches, beside concurrent redemptions."""

import threading
from datetime import date

import pytest
from django.db import connection
from django.db.models import Sum

from loyalty.models import PointsAccount, PointsAllocation, PointsEntry, PointsLot
from loyalty.services.expiry import points_expire
from loyalty.services.ledger import InsufficientPoints, account_get_or_create, credit, debit
from loyalty.tasks import points_expire_task
from tests.factories import CustomerFactory
from tests.loyalty.factories import ProgramFactory

Kind = PointsEntry.Kind
DAY = date(2026, 3, 1)


def new_account(program=None):
    program = program or ProgramFactory(code="bank")
    return account_get_or_create(customer_id=CustomerFactory().pk, program_id=program.pk)


def earn(account, points, key, expires_on):
    return credit(account=account, kind=Kind.EARN, points=points, key=key, expires_on=expires_on)


def remaining(account):
    return dict(PointsLot.objects.filter(account=account).values_list("entry__key", "remaining"))


def assert_ledger_holds(account):
    account.refresh_from_db()
    entries = PointsEntry.objects.filter(account=account).aggregate(total=Sum("points"))["total"]
    open_lots = PointsLot.objects.filter(account=account).aggregate(total=Sum("remaining"))
    assert account.balance == (entries or 0)
    assert (open_lots["total"] or 0) == max(account.balance, 0)
    for lot in PointsLot.objects.filter(account=account):
        taken = lot.allocations.aggregate(total=Sum("points"))["total"] or 0
        assert lot.remaining == lot.initial - taken >= 0


@pytest.mark.django_db
def test_expiry_takes_what_is_left_of_the_due_lots_and_leaves_the_later_ones():
    account = new_account()
    earn(account, 100, "old", expires_on=date(2026, 1, 31))
    earn(account, 40, "due-today", expires_on=DAY)
    earn(account, 50, "later", expires_on=date(2026, 3, 2))
    debit(account=account, kind=Kind.REDEEM, points=30, key="spend")  # from "old"

    result = points_expire(as_of=DAY)

    assert remaining(account) == {"old": 0, "due-today": 0, "later": 50}
    assert (result.lots, result.points, result.accounts) == (2, 110, 1)
    expired = PointsEntry.objects.filter(kind=Kind.EXPIRE).order_by("id")
    lots = {lot.entry.key: lot.pk for lot in PointsLot.objects.select_related("entry")}
    assert [(e.key, e.points, e.occurred_on) for e in expired] == [
        (f"expire:{lots['old']}", -70, date(2026, 1, 31)),
        (f"expire:{lots['due-today']}", -40, DAY),
    ]
    assert sorted(
        PointsAllocation.objects.filter(entry__kind=Kind.EXPIRE).values_list("lot_id", "points")
    ) == sorted([(lots["old"], 70), (lots["due-today"], 40)])
    assert_ledger_holds(account)
    assert account.balance == 50


@pytest.mark.django_db
def test_running_expiry_twice_changes_nothing_the_second_time():
    account = new_account()
    earn(account, 100, "old", expires_on=date(2026, 1, 31))
    points_expire(as_of=DAY)
    entries = list(PointsEntry.objects.values_list("id", "points"))

    again = points_expire(as_of=DAY)

    assert (again.lots, again.points, again.accounts) == (0, 0, 0)
    assert list(PointsEntry.objects.values_list("id", "points")) == entries
    assert PointsAllocation.objects.count() == 1
    assert_ledger_holds(account)
    assert account.balance == 0


@pytest.mark.django_db
def test_nothing_due_runs_one_query(django_assert_num_queries):
    account = new_account()
    earn(account, 100, "later", expires_on=date(2026, 3, 2))
    with django_assert_num_queries(1):  # the range of due accounts, empty
        result = points_expire(as_of=DAY)
    assert result.batches == 0


@pytest.mark.django_db
def test_batches_cover_every_account_and_each_batch_is_a_few_statements(
    django_assert_num_queries,
):
    program = ProgramFactory(code="bank")
    accounts = [new_account(program) for _ in range(5)]
    for index, account in enumerate(accounts):
        for lot in range(3):  # three due lots each, whatever their number
            earn(account, 10 + index, f"a{index}-{lot}", expires_on=date(2026, 2, 1 + lot))
        earn(account, 7, f"a{index}-later", expires_on=date(2027, 1, 1))
    span = accounts[-1].pk - accounts[0].pk + 1
    batches = -(-span // 2)

    # The range of due accounts; per batch: a savepoint, the accounts locked, the entries, the
    # allocations, the balances, the lots, the savepoint released.
    with django_assert_num_queries(1 + 7 * batches):
        result = points_expire(as_of=DAY, batch_accounts=2)

    assert (result.accounts, result.lots, result.batches) == (5, 15, batches)
    assert result.points == sum(3 * (10 + index) for index in range(5))
    for account in accounts:
        assert_ledger_holds(account)
        assert account.balance == 7


@pytest.mark.django_db
def test_a_batch_that_fails_leaves_the_earlier_batches_done(monkeypatch):
    from loyalty.services import expiry

    program = ProgramFactory(code="bank")
    one, two = new_account(program), new_account(program)
    earn(one, 10, "one", expires_on=date(2026, 1, 1))
    earn(two, 20, "two", expires_on=date(2026, 1, 1))
    real_lock = expiry._accounts_lock

    def failing_lock(*, day, first, last):
        if first > one.pk:  # the second batch
            raise RuntimeError("the database went away")
        return real_lock(day=day, first=first, last=last)

    monkeypatch.setattr(expiry, "_accounts_lock", failing_lock)
    with pytest.raises(RuntimeError):
        points_expire(as_of=DAY, batch_accounts=1)
    assert remaining(one) == {"one": 0}
    assert remaining(two) == {"two": 20}

    monkeypatch.setattr(expiry, "_accounts_lock", real_lock)
    result = points_expire(as_of=DAY, batch_accounts=1)

    assert (result.accounts, result.points) == (1, 20)
    assert_ledger_holds(one)
    assert_ledger_holds(two)
    assert PointsEntry.objects.filter(kind=Kind.EXPIRE).count() == 2


@pytest.mark.django_db
def test_a_lot_paid_into_a_negative_balance_expires_only_what_it_holds():
    account = new_account()
    earn(account, 30, "old", expires_on=date(2026, 1, 1))
    debit(account=account, kind=Kind.REVERSE, points=50, key="refund", allow_negative=True)
    earn(account, 40, "pays-back", expires_on=date(2026, 2, 1))  # 20 pay the debt, 20 left

    points_expire(as_of=DAY)

    assert remaining(account) == {"old": 0, "pays-back": 0}
    assert_ledger_holds(account)
    assert account.balance == 0
    assert PointsEntry.objects.get(kind=Kind.EXPIRE).points == -20


@pytest.mark.django_db
def test_the_task_expires_as_of_the_given_day_and_returns_counts():
    account = new_account()
    earn(account, 100, "old", expires_on=date(2026, 1, 31))

    counts = points_expire_task.apply(kwargs={"as_of": DAY.isoformat()}).get()
    again = points_expire_task.apply(kwargs={"as_of": DAY.isoformat()}).get()

    assert counts == {"accounts": 1, "lots": 1, "points": 100, "batches": 1}
    assert again == {"accounts": 0, "lots": 0, "points": 0, "batches": 0}


@pytest.mark.django_db
def test_the_task_expires_as_of_today_by_default(time_machine):
    time_machine.move_to("2026-03-01 02:00:00+08:00")
    account = new_account()
    earn(account, 5, "today", expires_on=DAY)
    earn(account, 6, "tomorrow", expires_on=date(2026, 3, 2))

    counts = points_expire_task.apply().get()

    assert counts["points"] == 5
    assert remaining(account) == {"today": 0, "tomorrow": 6}


@pytest.mark.django_db
def test_the_nightly_expiry_is_scheduled_on_migrate():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="loyalty.tasks.points_expire_task")
    assert (task.crontab.hour, task.crontab.minute) == ("1", "30")


# -- beside concurrent redemptions (PostgreSQL: real row locks) ------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_a_redemption_during_expiry_never_spends_an_expired_lot():
    program = ProgramFactory(code="bank")
    accounts = [new_account(program) for _ in range(40)]
    for account in accounts:
        earn(account, 10, f"due-{account.pk}", expires_on=date(2026, 1, 1))
        earn(account, 10, f"later-{account.pk}", expires_on=date(2027, 1, 1))
    start = threading.Barrier(3)
    outcomes: list[str] = []

    def expire() -> None:
        try:
            start.wait()
            points_expire(as_of=DAY, batch_accounts=3)
        finally:
            connection.close()

    def redeem(chosen) -> None:
        try:
            start.wait()
            for account in chosen:
                try:
                    debit(account=account, kind=Kind.REDEEM, points=15, key=f"r-{account.pk}")
                    outcomes.append("redeemed")
                except InsufficientPoints:
                    outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=expire),
        threading.Thread(target=redeem, args=(accounts[::2],)),
        threading.Thread(target=redeem, args=(accounts[1::2][::-1],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    points_expire(as_of=DAY)  # whatever the race left open and due

    assert len(outcomes) == 40
    for account in PointsAccount.objects.all():
        assert_ledger_holds(account)
        # Either the redemption came first (10 due + 5 later: nothing left to expire) or the
        # expiry did (10 expired, 15 refused): never both the redemption and the expiry of
        # the same 10 points.
        assert account.balance in (5, 10)
    redeemed = outcomes.count("redeemed")
    assert PointsAccount.objects.filter(balance=5).count() == redeemed
    assert PointsEntry.objects.filter(kind=Kind.EXPIRE).count() == 40 - redeemed
