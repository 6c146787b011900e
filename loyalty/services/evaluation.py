"""Evaluation of a program's tiers: the scratch table decides, a few statements write.

The scratch table (loyalty/scratch.py) holds every customer's metrics and the decision the
rules of movement take; the writes below are set-based statements over it, so the number of
queries does not depend on the number of customers. The rules, in order:

- a customer without a membership joins at the highest tier they qualify for;
- a serious credit event inside the program's block drops the customer to the base tier and
  keeps them there (no upgrade) until the block ends; it overrides a grace period;
- qualifying for a higher tier is an upgrade at this evaluation;
- the month's first run (`EvaluationRun.is_monthly`) counts the months in which no group of
  the customer's tier holds even at `warning_ratio` times its thresholds; after
  `warning_after_months` such months in a row a warning opens, with a deadline
  `recovery_months` later. Qualifying for the tier again closes it (recovered); at the
  first evaluation on or after the deadline the customer moves down one tier;
- while an approved grace period runs, no month counts, open warnings are suspended, and no
  downgrade happens.

Every change is a MembershipChange row: from, to, kind, why (the criteria and values, the
warning, or the credit event), and the run or the named user.
"""

from collections import Counter
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import connection, transaction
from django.utils import timezone

from loyalty.models import (
    DowngradeWarning,
    EvaluationRun,
    Membership,
    MembershipChange,
    Program,
)
from loyalty.rules import ProgramRules
from loyalty.scratch import TABLE, Movement, Scratch, adapt, scratch_table
from loyalty.signals import membership_changes_recorded

Kind = MembershipChange.Kind
_MOVES = (Kind.UPGRADE, Kind.DOWNGRADE, Kind.CREDIT_EVENT)


def program_evaluate(*, program_id: int, as_of: date) -> EvaluationRun:
    """Evaluate every customer of the program as of a day; idempotent per (program, day).

    The writes are one transaction: a run that dies halfway leaves nothing behind and the
    next attempt does it all. A finished run on the same day is returned as it is; a second
    worker on the same day waits for the first one's lock, then finds it done.
    """
    program = Program.objects.get(pk=program_id)
    run, _created = EvaluationRun.objects.get_or_create(program=program, as_of=as_of)
    if run.status == EvaluationRun.Status.DONE:
        return run
    try:
        with transaction.atomic():
            run = EvaluationRun.objects.select_for_update().get(pk=run.pk)
            if run.status == EvaluationRun.Status.DONE:
                return run
            run.is_monthly = not EvaluationRun.objects.filter(
                program=program,
                status=EvaluationRun.Status.DONE,
                as_of__gte=as_of.replace(day=1),
                as_of__lt=as_of,
            ).exists()
            counts = _evaluate(program, as_of=as_of, run=run, monthly=run.is_monthly)
            run.customers_evaluated = counts.total()
            run.memberships_created = counts[Kind.JOINED]
            run.upgrades = counts[Kind.UPGRADE]
            run.downgrades = counts[Kind.DOWNGRADE] + counts[Kind.CREDIT_EVENT]
            run.warnings_opened = counts["warnings_opened"]
            run.status = EvaluationRun.Status.DONE
            run.error = ""
            run.finished_at = timezone.now()
            run.save()
            membership_changes_recorded.send(
                sender=MembershipChange,
                changes=MembershipChange.objects.filter(run_id=run.pk, kind__in=_MOVES),
            )
    except Exception as error:
        EvaluationRun.objects.filter(pk=run.pk).update(
            status=EvaluationRun.Status.FAILED, error=repr(error)[:2000]
        )
        raise
    return run


def customer_evaluate(
    *, program_id: int, customer_id: int, actor: Any, as_of: date | None = None
) -> MembershipChange | None:
    """Evaluate one customer now, by the same rules (monthly counting aside: that is the
    nightly run's). The history row, if the tier changed, names the user."""
    program = Program.objects.get(pk=program_id)
    as_of = as_of or timezone.localdate()
    with transaction.atomic():
        list(
            Membership.objects.select_for_update().filter(
                program_id=program_id, customer_id=customer_id
            )
        )
        counts = _evaluate(
            program, as_of=as_of, actor=actor, customer_id=customer_id, monthly=False
        )
    if not any(counts[kind] for kind in (Kind.JOINED, *_MOVES)):
        return None
    change = (
        MembershipChange.objects.filter(program_id=program_id, customer_id=customer_id)
        .order_by("-id")
        .first()
    )
    if change is not None and change.kind in _MOVES:
        membership_changes_recorded.send(
            sender=MembershipChange, changes=MembershipChange.objects.filter(pk=change.pk)
        )
    return change


def program_movement(program: Program) -> Movement:
    return Movement(
        warning_ratio=program.warning_ratio, credit_block_months=program.credit_block_months
    )


def _evaluate(
    program: Program,
    *,
    as_of: date,
    monthly: bool,
    run: EvaluationRun | None = None,
    actor: Any = None,
    customer_id: int | None = None,
) -> Counter:
    """Decide in the scratch table, then write; returns the count of rows per kind of change
    (None: unchanged) and of warnings opened."""
    rules = ProgramRules.load(program.pk)
    with scratch_table(
        rules, as_of=as_of, movement=program_movement(program), customer_id=customer_id
    ) as scratch:
        counts = _kind_counts()
        writer = _Writer(scratch, program=program, as_of=as_of, run=run, actor=actor)
        writer.join()
        writer.move()
        writer.record()
        writer.close_warnings()
        if monthly:
            writer.count_month()
            counts["warnings_opened"] = writer.open_warnings()
    return counts


def _kind_counts() -> Counter:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT kind, COUNT(*) FROM {TABLE} GROUP BY kind")
        return Counter(dict(cursor.fetchall()))


class _Writer:
    """The set-based writes of one evaluation, each one statement over the scratch table."""

    def __init__(
        self,
        scratch: Scratch,
        *,
        program: Program,
        as_of: date,
        run: EvaluationRun | None,
        actor: Any,
    ) -> None:
        self.scratch = scratch
        self.program = program
        self.as_of = as_of
        self.run_id = run.pk if run else None
        self.actor_id = actor.pk if actor else None
        base = scratch.rules.base
        self.base_rank = base.rank if base else 0

    def _execute(self, sql: str, params: list[Any]) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def join(self) -> None:
        self._execute(
            "INSERT INTO loyalty_membership"
            " (customer_id, program_id, tier_id, since, months_under_ratio)"
            f" SELECT s.customer_id, t.program_id, t.id, %s, 0 FROM {TABLE} s"
            " JOIN loyalty_tier t ON t.program_id = %s AND t.rank = s.to_rank"
            " WHERE s.kind = %s",
            [adapt(self.as_of), self.program.pk, Kind.JOINED],
        )
        self._execute(
            f"UPDATE {TABLE} SET membership_id = m.id FROM loyalty_membership m"
            f" WHERE m.customer_id = {TABLE}.customer_id AND m.program_id = %s"
            f" AND {TABLE}.kind = %s",
            [self.program.pk, Kind.JOINED],
        )

    def move(self) -> None:
        self._execute(
            "UPDATE loyalty_membership SET tier_id = t.id, since = %s, months_under_ratio = 0"
            f" FROM {TABLE} s JOIN loyalty_tier t ON t.program_id = %s AND t.rank = s.to_rank"
            " WHERE loyalty_membership.id = s.membership_id AND s.kind IN (%s, %s, %s)",
            [adapt(self.as_of), self.program.pk, *_MOVES],
        )

    def record(self) -> None:
        reason, reason_params = self.scratch.reason_sql("s")
        self._execute(
            f"INSERT INTO {MembershipChange._meta.db_table} (membership_id, customer_id,"
            " program_id, from_tier_id, to_tier_id, kind, evaluated_on, reason, run_id,"
            " changed_by_id, created_at)"
            " SELECT s.membership_id, s.customer_id, t.program_id, f.id, t.id, s.kind, %s,"
            f" {reason}, %s, %s, %s FROM {TABLE} s"
            " JOIN loyalty_tier t ON t.program_id = %s AND t.rank = s.to_rank"
            " LEFT JOIN loyalty_tier f ON f.program_id = %s AND f.rank = s.current_rank"
            " WHERE s.kind IS NOT NULL",
            [
                adapt(self.as_of),
                *reason_params,
                self.run_id,
                self.actor_id,
                adapt(timezone.now()),
                self.program.pk,
                self.program.pk,
            ],
        )

    def close_warnings(self) -> None:
        """Each open warning the evaluation settles, by how it was settled."""
        Status = DowngradeWarning.Status
        outcomes = [
            (Status.DOWNGRADED, "s.kind = %s", [Kind.DOWNGRADE]),
            (Status.CLOSED, "s.kind = %s", [Kind.CREDIT_EVENT]),
            (
                Status.RECOVERED,
                "(s.kind = %s OR (s.kind IS NULL AND s.qualified_rank >= s.current_rank))",
                [Kind.UPGRADE],
            ),
            (
                Status.SUSPENDED,
                "s.kind IS NULL AND s.qualified_rank < s.current_rank AND s.grace = 1",
                [],
            ),
        ]
        for status, condition, params in outcomes:
            self._execute(
                f"UPDATE {DowngradeWarning._meta.db_table} SET status = %s, closed_on = %s"
                f" WHERE id IN (SELECT s.warning_id FROM {TABLE} s"
                f" WHERE s.warning_id IS NOT NULL AND {condition})",
                [status, adapt(self.as_of), *params],
            )
        # Qualifying for the tier again starts the count of months under the ratio afresh.
        self._execute(
            "UPDATE loyalty_membership SET months_under_ratio = 0"
            f" WHERE id IN (SELECT s.membership_id FROM {TABLE} s WHERE s.kind IS NULL"
            " AND s.months_under > 0 AND s.qualified_rank >= s.current_rank)",
            [],
        )

    def count_month(self) -> None:
        """The month's evaluation: one more month under the ratio, or back to none."""
        self._execute(
            "UPDATE loyalty_membership SET months_under_ratio = months_under_ratio + 1"
            f" WHERE id IN (SELECT s.membership_id FROM {TABLE} s WHERE s.kind IS NULL"
            " AND s.under_ratio = 1 AND s.grace = 0 AND s.current_rank > %s)",
            [self.base_rank],
        )
        self._execute(
            "UPDATE loyalty_membership SET months_under_ratio = 0"
            f" WHERE id IN (SELECT s.membership_id FROM {TABLE} s WHERE s.kind IS NULL"
            " AND s.months_under > 0 AND (s.under_ratio = 0 OR s.grace = 1))",
            [],
        )

    def open_warnings(self) -> int:
        deadline = self.as_of + relativedelta(months=self.program.recovery_months)
        return self._execute(
            f"INSERT INTO {DowngradeWarning._meta.db_table} (membership_id, customer_id,"
            " program_id, tier_id, opened_on, deadline, status, run_id)"
            " SELECT s.membership_id, s.customer_id, t.program_id, t.id, %s, %s, %s, %s"
            f" FROM {TABLE} s"
            " JOIN loyalty_tier t ON t.program_id = %s AND t.rank = s.current_rank"
            " WHERE s.kind IS NULL AND s.under_ratio = 1 AND s.grace = 0"
            " AND s.warning_id IS NULL AND s.current_rank > %s AND s.months_under + 1 >= %s",
            [
                adapt(self.as_of),
                adapt(deadline),
                DowngradeWarning.Status.OPEN,
                self.run_id,
                self.program.pk,
                self.base_rank,
                self.program.warning_after_months,
            ],
        )
