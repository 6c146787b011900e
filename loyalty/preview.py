"""Rule changes with foresight: what proposed thresholds would do on the live data.

Both reads fill the evaluation's own scratch table (loyalty/scratch.py) with the rules given,
so a preview qualifies customers exactly as the next evaluation would, in a fixed number of
queries whatever the number of customers. Neither writes anything: the table is temporary
and dropped before the transaction ends.

A preview compares the tier each customer qualifies for with their tier today. It does not
apply the rules of movement: a customer who qualifies for less is warned first and moves
down only if they do not recover (DESIGN.md, "loyalty: tiers"), and a serious credit event
blocks an upgrade whatever the thresholds.
"""

import math
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loyalty.models import Condition, Program
from loyalty.rules import ConditionRule, GroupRule, ProgramRules, TierRule
from loyalty.scratch import TABLE, Scratch, scratch_table
from loyalty.services.evaluation import program_movement

CENT = Decimal("0.01")
# "At most" conditions hold for the lowest values: their share is counted from the bottom.
_AT_MOST = frozenset({Condition.Operator.LTE, Condition.Operator.LT})
_STRICT = frozenset({Condition.Operator.GT, Condition.Operator.LT})


@dataclass(frozen=True)
class TierMovement:
    """One tier's customers today and where the rules would put them.

    `up`, `down` and `stay` split `customers` (those at this tier today); `qualifying` counts
    every customer whose highest qualifying tier this one is, wherever they are today.
    """

    rank: int  # 0: not a member of the program yet
    name: str
    customers: int
    up: int
    down: int  # qualifies for less: warnings first, then down one tier
    stay: int
    qualifying: int


@dataclass(frozen=True)
class TierComparison:
    """A tier under the saved rules and under the proposed ones, side by side."""

    saved: TierMovement
    proposed: TierMovement

    @property
    def rank(self) -> int:
        return self.proposed.rank

    @property
    def name(self) -> str:
        return self.proposed.name

    @property
    def qualifying_change(self) -> int:
        return self.proposed.qualifying - self.saved.qualifying


def rules_preview(
    *, program: Program, rules: ProgramRules, as_of: date | None = None
) -> list[TierMovement]:
    """Per tier today (highest first, then "not a member yet"), how many customers would
    qualify for a higher tier, a lower one or the same under `rules`.

    Queries: the scratch table's drop-if-exists, create, fill (and ANALYZE on PostgreSQL),
    one GROUP BY, the drop; and the savepoint around them when already in a transaction.
    Rules without any criterion group cannot be previewed (ValueError): nothing to tune.
    """
    if not any(tier.groups for tier in rules.tiers):
        # The scratch table's CASE over the groups would be empty, which is no SQL.
        raise ValueError("rules without criterion groups cannot be previewed")
    as_of = as_of or timezone.localdate()
    with (
        transaction.atomic(),
        scratch_table(rules, as_of=as_of, movement=program_movement(program)),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT current_rank, qualified_rank, COUNT(*)"  # noqa: S608 - TABLE is a constant
            f" FROM {TABLE} GROUP BY current_rank, qualified_rank"
        )
        counts = [(int(now), int(then), int(count)) for now, then, count in cursor.fetchall()]
    return _movements(rules, counts)


def rules_compare(
    *,
    program: Program,
    rules: ProgramRules,
    saved_rules: ProgramRules | None = None,
    as_of: date | None = None,
) -> list[TierComparison]:
    """`rules_preview` of the saved rules and of `rules`, tier by tier.

    When only thresholds differ (the preview page's case) the metrics are the same: ONE
    scratch table is filled and both rules' tiers are counted in one GROUP BY, half the time of
    two previews (at 1M customers the fill is what costs). Otherwise, two previews.
    """
    as_of = as_of or timezone.localdate()
    saved_rules = saved_rules or ProgramRules.load(program.pk)
    if saved_rules.metric_keys() == rules.metric_keys():
        saved, proposed_list = _compare_in_one_table(
            program=program, rules=rules, saved_rules=saved_rules, as_of=as_of
        )
    else:
        saved = rules_preview(program=program, rules=saved_rules, as_of=as_of)
        proposed_list = rules_preview(program=program, rules=rules, as_of=as_of)
    proposed = {movement.rank: movement for movement in proposed_list}
    return [
        TierComparison(saved=movement, proposed=proposed.get(movement.rank, movement))
        for movement in saved
    ]


def _compare_in_one_table(
    *, program: Program, rules: ProgramRules, saved_rules: ProgramRules, as_of: date
) -> tuple[list[TierMovement], list[TierMovement]]:
    if not any(tier.groups for tier in rules.tiers) or not any(
        tier.groups for tier in saved_rules.tiers
    ):
        raise ValueError("rules without criterion groups cannot be previewed")
    movement = program_movement(program)
    # The saved rules' tier, over the same metric columns (same keys, same order).
    saved_rank, params = Scratch(saved_rules, as_of=as_of, movement=movement).qualified_rank_sql()
    with (
        transaction.atomic(),
        scratch_table(rules, as_of=as_of, movement=movement),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"SELECT current_rank, {saved_rank}, qualified_rank, COUNT(*)"  # noqa: S608
            f" FROM {TABLE} GROUP BY 1, 2, 3",
            params,
        )
        rows = [tuple(map(int, row)) for row in cursor.fetchall()]
    saved: Counter = Counter()
    proposed: Counter = Counter()
    for now, saved_then, then, count in rows:
        saved[now, saved_then] += count
        proposed[now, then] += count
    return (
        _movements(saved_rules, [(*key, count) for key, count in saved.items()]),
        _movements(rules, [(*key, count) for key, count in proposed.items()]),
    )


def threshold_for_share(
    *, program: Program, condition: ConditionRule, share: Decimal, as_of: date | None = None
) -> Decimal:
    """The threshold of `condition` (its metric, window, parameters and operator) that
    `share` of the program's customers reach, e.g. share 0.20: the top 20%.

    The value at position ceil(share x N) from the top (from the bottom for "at most"), N
    counting every customer, those without activity with 0; a strict operator moves it by a
    cent so that those customers still hold. 0 when the program has no customers.
    Queries: the scratch table's (as in `rules_preview`), a count and one ordered value.
    """
    if not Decimal(0) < share < Decimal(1):
        raise ValueError("share must lie strictly between 0 and 1")
    as_of = as_of or timezone.localdate()
    # The scratch table of rules with this one condition: its metric is the column m0.
    rules = ProgramRules(
        program_id=program.pk,
        tiers=(
            TierRule(
                rank=1, name="advice", groups=(GroupRule(name="advice", conditions=(condition,)),)
            ),
        ),
    )
    order = "ASC" if condition.operator in _AT_MOST else "DESC"
    with (
        transaction.atomic(),
        scratch_table(rules, as_of=as_of, movement=program_movement(program)) as scratch,
        connection.cursor() as cursor,
    ):
        column = scratch.columns[condition.key]
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")  # noqa: S608 - TABLE is a constant
        (customers,) = cursor.fetchone()
        if not customers:
            return Decimal("0.00")
        position = max(1, math.ceil(share * customers))
        cursor.execute(
            f"SELECT {column} FROM {TABLE}"  # noqa: S608 - a column of our own naming
            f" ORDER BY {column} {order}, customer_id LIMIT 1 OFFSET %s",
            [position - 1],
        )
        (value,) = cursor.fetchone()
    threshold = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    if condition.operator in _STRICT:
        threshold += CENT if condition.operator == Condition.Operator.LT else -CENT
    return max(threshold, Decimal("0.00"))


def _movements(rules: ProgramRules, counts: list[tuple[int, int, int]]) -> list[TierMovement]:
    names = {tier.rank: tier.name for tier in rules.tiers}
    ranks = sorted({*names, *(now for now, _then, _count in counts)}, reverse=True)
    if 0 not in ranks:
        ranks.append(0)
    moves: Counter = Counter()
    qualifying: Counter = Counter()
    for now, then, count in counts:
        moves[now, "up" if then > now else "down" if then < now else "stay"] += count
        qualifying[then] += count
    return [
        TierMovement(
            rank=rank,
            name=_tier_name(rank, names),
            customers=moves[rank, "up"] + moves[rank, "down"] + moves[rank, "stay"],
            up=moves[rank, "up"],
            down=moves[rank, "down"],
            stay=moves[rank, "stay"],
            qualifying=qualifying[rank],
        )
        for rank in ranks
    ]


def _tier_name(rank: int, names: dict[int, str]) -> str:
    if rank == 0:
        return str(_("not a member yet"))
    return names.get(rank) or str(_("rank %(rank)s") % {"rank": rank})
