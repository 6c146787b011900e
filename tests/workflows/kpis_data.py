"""Small known data for the KPI tests; every figure is worked out by hand in the docstring of
`known_kpis` (the snapshot day is 15 June 2026, so the figures count up to 14 June's end).

Windows: last 30 days from 16 May, last 90 from 17 March, the 90 before from 17 December
2025; months July 2025 (index 0) .. June 2026 (index 11).
"""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from crm.models import Customer, Interaction, Transaction
from loyalty.models import Membership, MembershipChange, PointsAccount, Program
from tests.factories import CustomerFactory, InteractionFactory, TransactionFactory
from tests.loyalty.factories import ProgramFactory, TierFactory, tiered_program
from tests.workflows.feedback_admin_data import answered
from tests.workflows.feedback_factories import published_form
from tests.workflows.tickets_admin_data import ticket
from workflows.models import Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 6, 15)
NOW = datetime(2026, 6, 15, 12, 0, tzinfo=SHANGHAI)


def at(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def _customer(owner, **fields) -> Customer:
    return CustomerFactory(owner=owner, created_at=at(2025, 1, 1), **fields)


def _buy(customer, amount: str, when: datetime) -> Transaction:
    return TransactionFactory(customer=customer, amount=Decimal(amount), occurred_at=when)


def _refund(original: Transaction, amount: str, when: datetime) -> Transaction:
    return TransactionFactory(
        customer=original.customer,
        kind=Transaction.Kind.REFUND,
        refund_of=original,
        amount=Decimal(amount),
        occurred_at=when,
    )


def _change(membership: Membership, from_rank: int | None, to_rank: int, on: date) -> None:
    program = membership.program
    MembershipChange.objects.create(
        membership=membership,
        customer=membership.customer,
        program=program,
        from_tier=program.tiers.get(rank=from_rank) if from_rank else None,
        to_tier=program.tiers.get(rank=to_rank),
        kind=(
            MembershipChange.Kind.JOINED
            if from_rank is None
            else MembershipChange.Kind.UPGRADE
            if to_rank > from_rank
            else MembershipChange.Kind.DOWNGRADE
        ),
        evaluated_on=on,
    )


def _member(customer, program: Program, rank: int) -> Membership:
    return Membership.objects.create(
        customer=customer,
        program=program,
        tier=program.tiers.get(rank=rank),
        since=date(2025, 6, 1),
    )


def known_kpis(*, owner, foreign_owner) -> dict:
    """Team A (owner's): c1, c2, c3, c4, c7; the other team: c5. Also c6 (merged) and c8
    (created on the day itself), both left out of the customers.

    c1: buys 100 (10 Apr), 50 (1 Jun), refund 20 (5 Jun), and 999 on the day itself (not
        counted); bank Gold. Net 130; repeat; active 30 and 90; cohort Apr (9): Apr, Jun.
    c2: buys 200 (10 Jan); app login 20 May; bank Member. Active 30/90 by the login; in the
        retention base (bought Dec-Mar), not retained; cohort Jan (6).
    c3: buys 300 (1 Feb), 100 (1 Apr); a staff call on 10 Jun (not activity); no membership.
        Active 90 only; retained; repeat; cohort Feb (7): Feb, Apr.
    c4: nothing; bank Member.
    c7: buys 10 (1 May 2025, before the cohorts) and 10 (1 May 2026): active 90, repeat, no
        cohort.
    c5 (other team): buys 1000 (10 Jun); bank Silver; cohort Jun (11).
    """
    bank = tiered_program(code="bank", name="Bank")
    shop = ProgramFactory(code="shop", name="Shop", point_value=Decimal("0.0500"))
    TierFactory(program=shop, rank=1, name="Shop member")
    c1, c2, c3, c4, c7 = (_customer(owner) for _ in range(5))
    c5 = _customer(foreign_owner)
    _customer(owner, status=Customer.Status.MERGED)
    CustomerFactory(owner=owner, created_at=NOW)  # c8: created on the day

    _buy(c1, "100", at(2026, 4, 10))
    second = _buy(c1, "50", at(2026, 6, 1))
    _refund(second, "20", at(2026, 6, 5))
    _buy(c1, "999", at(2026, 6, 15, 10))
    _buy(c2, "200", at(2026, 1, 10))
    InteractionFactory(customer=c2, kind=Interaction.Kind.LOGIN, occurred_at=at(2026, 5, 20))
    _buy(c3, "300", at(2026, 2, 1))
    _buy(c3, "100", at(2026, 4, 1))
    InteractionFactory(customer=c3, kind=Interaction.Kind.CALL, occurred_at=at(2026, 6, 10))
    _buy(c7, "10", at(2025, 5, 1))
    _buy(c7, "10", at(2026, 5, 1))
    _buy(c5, "1000", at(2026, 6, 10))

    m1, m2 = _member(c1, bank, 3), _member(c2, bank, 1)
    _member(c4, bank, 1)
    m5 = _member(c5, bank, 2)
    _change(m1, None, 1, date(2026, 1, 1))
    _change(m1, 1, 3, date(2026, 5, 1))
    _change(m2, 2, 1, date(2026, 5, 1))
    _change(m5, 1, 2, date(2026, 6, 10))
    _change(m5, None, 1, date(2025, 1, 1))  # before the months shown

    version = published_form()
    answered(version, customer=c1, nps=10, at=at(2026, 6, 1))
    answered(version, customer=c2, nps=6, at=at(2026, 5, 1))
    answered(version, customer=c3, nps=8, at=at(2026, 4, 1))
    answered(version, customer=None, nps=9, at=at(2026, 6, 2))
    answered(version, customer=c5, nps=9, at=at(2026, 6, 3))
    answered(version, customer=c1, nps=0, at=at(2026, 1, 1))  # older than 90 days

    PointsAccount.objects.create(customer=c1, program=bank, balance=1000)
    PointsAccount.objects.create(customer=c2, program=bank, balance=-50)
    PointsAccount.objects.create(customer=c3, program=bank, balance=500)
    PointsAccount.objects.create(customer=c5, program=bank, balance=2000)
    PointsAccount.objects.create(customer=c1, program=shop, balance=100)
    PointsAccount.objects.create(customer=c4, program=shop, balance=0)

    resolved = {"status": Ticket.Status.RESOLVED}
    ticket(  # on time, both
        c1,
        **resolved,
        created_at=at(2026, 6, 1, 9),
        first_response_due_at=at(2026, 6, 1, 10),
        first_responded_at=at(2026, 6, 1, 9),
        resolution_due_at=at(2026, 6, 1, 18),
        resolved_at=at(2026, 6, 1, 15),
    )
    ticket(  # answered in time, resolved late
        c2,
        **resolved,
        created_at=at(2026, 6, 2, 9),
        first_response_due_at=at(2026, 6, 2, 10),
        first_responded_at=at(2026, 6, 2, 9),
        resolution_due_at=at(2026, 6, 2, 12),
        resolved_at=at(2026, 6, 3, 9),
    )
    ticket(  # the other team's: late, both
        c5,
        **resolved,
        created_at=at(2026, 6, 2, 9),
        first_response_due_at=at(2026, 6, 2, 10),
        first_responded_at=at(2026, 6, 2, 11),
        resolution_due_at=at(2026, 6, 2, 12),
        resolved_at=at(2026, 6, 3, 9),
    )
    ticket(c1, **resolved, created_at=at(2026, 4, 1, 9), resolved_at=at(2026, 4, 1, 10))
    ticket(c1, created_at=at(2026, 6, 10, 9))  # open
    return {"bank": bank, "shop": shop, "c1": c1, "c3": c3, "c5": c5}
