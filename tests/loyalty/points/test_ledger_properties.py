"""The ledger's invariants under any sequence of postings (hypothesis, stateful).

Rules: earn (random points and expiry days), redeem (refused when the balance is short),
expire (the clock moves on, the nightly expiry runs twice: the second finds nothing), refund
(a reversal of part of an earlier earning, from its own lot first, allowed to go negative),
adjust (+/-), and a retry of any earlier posting under its key. After every step:
- the cached balance == the sum of the entries == the model's balance;
- every lot: 0 <= remaining == initial - what allocations took, == the model's lot (so the
  lots were spent in the model's order: the earning's own lot for a refund, then the oldest
  expiry first, then the oldest lot);
- the open lots sum to max(balance, 0);
- at most one entry per key, and no earning reversed beyond its points;
- expiry took the oldest first: for every EXPIRE entry on a lot L, no lot that existed
  before that entry (a smaller id) and expires on or before L's day is still open; and it
  expired a lot only once its day had come (its occurred_on, the lot's day, <= the run's day).

Each example runs in a savepoint rolled back at its end (the whole run is one django_db test).
Cost: 100 examples x up to 30 steps: about 15 s on SQLite, 30 s on PostgreSQL (measured).
"""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from loyalty.models import PointsAccount, PointsAllocation, PointsEntry, PointsLot
from loyalty.services.expiry import points_expire
from loyalty.services.ledger import InsufficientPoints, account_get_or_create, credit, debit
from tests.factories import CustomerFactory
from tests.loyalty.factories import ProgramFactory

Kind = PointsEntry.Kind
START = date(2026, 1, 1)
POINTS = st.integers(min_value=1, max_value=500)


@dataclass
class ModelLot:
    id: int
    expires_on: date
    remaining: int


@dataclass
class Earning:
    entry_id: int
    points: int
    reversed: int = 0


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # One example, one savepoint: rolled back in teardown.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        program = ProgramFactory(code="props")
        self.account = account_get_or_create(
            customer_id=CustomerFactory().pk, program_id=program.pk
        )
        self.clock = START
        self.balance = 0
        self.lots: dict[int, ModelLot] = {}
        self.earnings: list[Earning] = []
        self.posted: list[tuple[object, dict, int]] = []  # (function, arguments, entry id)
        self.runs: dict[int, date] = {}  # the first entry id after each expiry run -> its day
        self.serial = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    # -- the model ---------------------------------------------------------------------------

    def key(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}-{self.serial}"

    def model_credit(self, entry_id: int, points: int, expires_on: date) -> None:
        self.balance += points
        initial = min(points, max(self.balance, 0))
        if initial > 0:
            self.lots[entry_id] = ModelLot(entry_id, expires_on, initial)

    def model_debit(self, points: int, first: int | None = None) -> None:
        take = min(points, max(self.balance, 0))
        self.balance -= points
        order = sorted(
            (lot for lot in self.lots.values() if lot.remaining > 0),
            key=lambda lot: (lot.id != first, lot.expires_on, lot.id),
        )
        for lot in order:
            taken = min(lot.remaining, take)
            lot.remaining -= taken
            take -= taken

    def post(self, function, **arguments) -> int:
        posting = function(account=self.account, **arguments)
        assert posting.created
        self.posted.append((function, arguments, posting.entry.pk))
        return posting.entry.pk

    # -- rules -------------------------------------------------------------------------------

    @rule(points=POINTS, days=st.integers(min_value=0, max_value=400))
    def earn(self, points: int, days: int) -> None:
        expires_on = self.clock + timedelta(days=days)
        entry_id = self.post(
            credit, kind=Kind.EARN, points=points, key=self.key("earn"), expires_on=expires_on
        )
        self.model_credit(entry_id, points, expires_on)
        self.earnings.append(Earning(entry_id, points))

    @rule(points=st.integers(min_value=1, max_value=800))
    def redeem(self, points: int) -> None:
        key = self.key("redeem")
        if self.balance < points:
            with pytest.raises(InsufficientPoints):
                debit(account=self.account, kind=Kind.REDEEM, points=points, key=key)
            assert not PointsEntry.objects.filter(key=key).exists()
            return
        self.post(debit, kind=Kind.REDEEM, points=points, key=key)
        self.model_debit(points)

    @rule(days=st.integers(min_value=0, max_value=200))
    def expire(self, days: int) -> None:
        self.clock += timedelta(days=days)
        first_new = (PointsEntry.objects.aggregate(last=Max("id"))["last"] or 0) + 1
        points_expire(as_of=self.clock, batch_accounts=1)
        self.runs[first_new] = self.clock
        again = points_expire(as_of=self.clock)  # the night's task delivered twice
        assert (again.lots, again.points) == (0, 0)
        for lot in self.lots.values():
            if lot.remaining > 0 and lot.expires_on <= self.clock:
                self.balance -= lot.remaining
                lot.remaining = 0

    @precondition(lambda self: any(e.points > e.reversed for e in self.earnings))
    @rule(data=st.data())
    def refund(self, data) -> None:
        earning = data.draw(st.sampled_from([e for e in self.earnings if e.points > e.reversed]))
        points = data.draw(st.integers(min_value=1, max_value=earning.points - earning.reversed))
        self.post(
            debit,
            kind=Kind.REVERSE,
            points=points,
            key=self.key("refund"),
            allow_negative=True,
            first_lot_id=earning.entry_id,
            reverses_id=earning.entry_id,
        )
        self.model_debit(points, first=earning.entry_id)
        earning.reversed += points

    @rule(points=st.integers(min_value=-500, max_value=500).filter(bool))
    def adjust(self, points: int) -> None:
        key = self.key("adjust")
        if points > 0:
            expires_on = self.clock + timedelta(days=365)
            entry_id = self.post(
                credit, kind=Kind.ADJUST, points=points, key=key, expires_on=expires_on
            )
            self.model_credit(entry_id, points, expires_on)
        elif self.balance < -points:
            with pytest.raises(InsufficientPoints):
                debit(account=self.account, kind=Kind.ADJUST, points=-points, key=key)
        else:
            self.post(debit, kind=Kind.ADJUST, points=-points, key=key)
            self.model_debit(-points)

    @precondition(lambda self: self.posted)
    @rule(data=st.data())
    def retry(self, data) -> None:
        function, arguments, entry_id = data.draw(st.sampled_from(self.posted))
        entries = PointsEntry.objects.count()
        posting = function(account=self.account, **arguments)
        assert not posting.created
        assert posting.entry.pk == entry_id
        assert PointsEntry.objects.count() == entries

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def balance_is_the_sum_of_the_entries_and_the_model(self) -> None:
        account = PointsAccount.objects.get(pk=self.account.pk)
        entries = account.entries.aggregate(total=Sum("points"))["total"] or 0
        assert account.balance == entries == self.balance

    @invariant()
    def lots_are_what_allocations_left_and_what_the_model_says(self) -> None:
        lots = PointsLot.objects.filter(account=self.account).annotate(
            taken=Sum("allocations__points")
        )
        found = {lot.pk: (lot.initial - (lot.taken or 0), lot.remaining) for lot in lots}
        for left, remaining in found.values():
            assert 0 <= remaining == left
        assert {k: v[1] for k, v in found.items()} == {
            lot.id: lot.remaining for lot in self.lots.values()
        }
        assert sum(remaining for _left, remaining in found.values()) == max(self.balance, 0)

    @invariant()
    def one_entry_per_key_and_no_earning_reversed_beyond_its_points(self) -> None:
        keys = PointsEntry.objects.values("key").annotate(n=Count("id")).filter(n__gt=1)
        assert not keys.exists()
        over = (
            PointsEntry.objects.filter(kind=Kind.EARN)
            .annotate(reversed=Sum("reversals__points"))
            .filter(reversed__lt=-F("points"))
        )
        assert not over.exists()

    @invariant()
    def expiry_took_the_oldest_lots_first_and_only_due_ones(self) -> None:
        expired = PointsAllocation.objects.filter(
            entry__kind=Kind.EXPIRE, entry__account=self.account
        ).values_list("entry_id", "entry__occurred_on", "lot_id", "lot__expires_on")
        for entry_id, occurred_on, _lot_id, expires_on in expired:
            assert occurred_on == expires_on
            run_day = self.runs[max(first for first in self.runs if first <= entry_id)]
            assert expires_on <= run_day
        older_open = PointsLot.objects.filter(
            account=self.account,
            remaining__gt=0,
            pk__lt=OuterRef("entry_id"),
            expires_on__lte=OuterRef("lot__expires_on"),
        )
        assert not expired.filter(Exists(older_open)).exists()


@pytest.mark.django_db
def test_the_ledger_keeps_its_invariants_under_any_sequence_of_postings():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=100,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
