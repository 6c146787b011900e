"""What a set of transactions earns, as ONE statement whatever their number.

For every program whose rules earn on transactions, one SELECT branch (UNION ALL) computes per
transaction, with the rule values of that program written into it:

    rule_points  = floor(round(amount x base rate x product of the matching multipliers, 6))
    bonus_points = the sum of the matching fixed bonuses (they need no base rate)

A base rate matches the transaction's kind (empty: purchases) and, if it names one, its source;
multipliers match by category, local time window (weekday, start included, end excluded), the
customer's current tier in the program, and the first order (a purchase with no earlier
purchase of the customer). A rule applies on the local days of its validity. The product is
rounded to a millionth before the floor so that SQLite's floating point gives what
PostgreSQL's exact numerics (and the preview's Decimals) give. The daily cap is applied later,
once the accounts are locked (`loyalty.earning.posting`).
"""

from decimal import Decimal
from typing import Any

from django.db import connection

from crm.models import Transaction
from loyalty.earning.clock import SECONDS_PER_DAY, day_number, local_seconds_sql, seconds_of
from loyalty.earning.rules import PURCHASE, Kind, ProgramRules, Rule
from loyalty.models import Membership

Fragment = tuple[str, list[Any]]

EARN_TABLE = "loyalty_earning_scratch"
REFUND = Transaction.Kind.REFUND.value


def number(value: Decimal | int) -> str:
    """A rule's number written into the SQL: only Decimals and ints, never text."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"Not a number: {value!r}")
    return str(value) if isinstance(value, int) else format(value, "f")


def floor_sql(expression: str) -> str:
    """floor() of a non-negative number as an integer (SQLite's CAST truncates, which is the
    same for non-negative numbers and needs no math extension)."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR({expression}) AS BIGINT)"
    return f"CAST({expression} AS INTEGER)"


def ids_sql(column: str, ids: list[int]) -> Fragment:
    """`column` among `ids` with ONE parameter, however many ids."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [f"[{','.join(map(str, ids))}]"]  # noqa: S608 (table names and rule numbers, values are parameters)


def _valid(rule: Rule) -> str:
    conditions = []
    if rule.valid_from is not None:
        conditions.append(f"l.local_day >= {day_number(rule.valid_from)}")
    if rule.valid_until is not None:
        conditions.append(f"l.local_day <= {day_number(rule.valid_until)}")
    return " AND ".join(conditions) or "1 = 1"


def _matches(rule: Rule) -> Fragment:
    """When `rule` applies to the transaction `l` (with the customer's membership `ms`)."""
    conditions, params = [_valid(rule)], []
    if rule.kind in (Kind.BASE, Kind.BONUS):
        conditions.append("l.kind = %s")
        params.append(rule.transaction_kind)
    if rule.kind == Kind.BASE and rule.source:
        conditions.append("l.source = %s")
        params.append(rule.source)
    if rule.kind == Kind.BONUS and rule.min_amount is not None:
        conditions.append(f"l.amount >= {number(rule.min_amount)}")
    if rule.kind == Kind.CATEGORY:
        conditions.append("l.category = %s")
        params.append(rule.category)
    if rule.kind == Kind.TIME_WINDOW:
        if rule.weekday is not None:
            # 1970-01-01 was a Thursday (3); "%%" is a literal "%" in a statement with parameters.
            conditions.append(f"(l.local_day + 3) %% 7 = {int(rule.weekday)}")
        if rule.starts_at is not None:
            conditions.append(f"l.local_second >= {seconds_of(rule.starts_at)}")
        if rule.ends_at is not None:
            conditions.append(f"l.local_second < {seconds_of(rule.ends_at)}")
    if rule.kind == Kind.TIER:
        conditions.append(f"ms.tier_id = {int(rule.tier_id or 0)}")
    if rule.kind == Kind.FIRST_ORDER:
        conditions.append(
            f"l.kind = %s AND NOT EXISTS (SELECT 1 FROM {Transaction._meta.db_table} e"  # noqa: S608 (table names and rule numbers, values are parameters)
            " WHERE e.customer_id = l.customer_id AND e.kind = %s"
            " AND (e.occurred_at < l.occurred_at"
            " OR (e.occurred_at = l.occurred_at AND e.id < l.id)))"
        )
        params.extend([PURCHASE, PURCHASE])
    return " AND ".join(conditions), params


def _case(whens: list[tuple[Fragment, str]], otherwise: str) -> Fragment:
    if not whens:
        return otherwise, []
    sql = "CASE" + "".join(f" WHEN {when} THEN {then}" for (when, _p), then in whens)
    return f"{sql} ELSE {otherwise} END", [p for (_w, params), _t in whens for p in params]


def _program_branch(program: ProgramRules) -> Fragment:
    bases = [(_matches(rule), number(rule.points_per_unit or 0)) for rule in program.bases]
    rate, rate_params = _case(bases, "NULL")
    base_ids, base_id_params = _case(
        [
            (match, f"',{rule.id}'")
            for (match, _rate), rule in zip(bases, program.bases, strict=True)
        ],
        "''",
    )
    factors, factor_params, factor_ids, factor_id_params = [], [], [], []
    multipliers = program.of_kind(Kind.CATEGORY, Kind.TIME_WINDOW, Kind.TIER, Kind.FIRST_ORDER)
    for rule in multipliers:
        when, params = _matches(rule)
        factors.append(f"(CASE WHEN {when} THEN {number(rule.multiplier or 1)} ELSE 1 END)")
        factor_params.extend(params)
        factor_ids.append(f"(CASE WHEN {when} THEN ',{rule.id}' ELSE '' END)")
        factor_id_params.extend(params)
    product = " * ".join(["l.amount", f"({rate})", *factors])
    rule_points = f"CASE WHEN ({rate}) IS NULL THEN 0 ELSE {floor_sql(f'ROUND({product}, 6)')} END"
    bonus_parts, bonus_params, bonus_ids, bonus_id_params = [], [], [], []
    for rule in program.transaction_bonuses:
        when, params = _matches(rule)
        bonus_parts.append(f"(CASE WHEN {when} THEN {number(rule.points or 0)} ELSE 0 END)")
        bonus_params.extend(params)
        bonus_ids.append(f"(CASE WHEN {when} THEN ',{rule.id}' ELSE '' END)")
        bonus_id_params.extend(params)
    bonus = " + ".join(bonus_parts) or "0"
    cap, cap_params = _case(
        [((_valid(rule), []), number(rule.points or 0)) for rule in program.caps],
        "CAST(NULL AS BIGINT)",
    )
    rules = " || ".join([base_ids, *factor_ids, *bonus_ids])
    sql = (
        f"SELECT {int(program.program_id)} AS program_id, l.id AS transaction_id,"  # noqa: S608 (table names and rule numbers, values are parameters)
        " l.customer_id, l.occurred_at, l.local_day,"
        f" {rule_points} AS rule_points, {bonus} AS bonus_points, {cap} AS cap,"
        f" {rules} AS rules"
        f" FROM earning_transactions l LEFT JOIN {Membership._meta.db_table} ms"
        f" ON ms.customer_id = l.customer_id AND ms.program_id = {int(program.program_id)}"
    )
    params = [
        *rate_params,  # the CASE in "IS NULL"
        *rate_params,  # the CASE in the product
        *factor_params,
        *bonus_params,
        *cap_params,
        *base_id_params,
        *factor_id_params,
        *bonus_id_params,
    ]
    return sql, params


def earn_fill_sql(programs: list[ProgramRules], transaction_ids: list[int]) -> Fragment:
    """INSERT INTO the earning scratch table what each (program, transaction) earns before the
    daily cap. Refunds earn nothing (they reverse, `loyalty.earning.refunds`)."""
    branches = [_program_branch(program) for program in programs]
    among, among_params = ids_sql("t.id", transaction_ids)
    local = local_seconds_sql("t.occurred_at")
    sql = (
        f"INSERT INTO {EARN_TABLE} (program_id, transaction_id, customer_id, occurred_at,"  # noqa: S608 (table names and rule numbers, values are parameters)
        " local_day, rule_points, bonus_points, cap, rules)"
        " WITH earning_transactions AS ("
        f" SELECT s.*, s.local_s / {SECONDS_PER_DAY} AS local_day,"
        f" s.local_s %% {SECONDS_PER_DAY} AS local_second FROM ("
        " SELECT t.id, t.customer_id, t.kind, t.source, t.category, t.amount, t.occurred_at,"
        f" {local} AS local_s FROM {Transaction._meta.db_table} t"
        f" WHERE {among} AND t.refund_of_id IS NULL AND t.kind <> %s) s)"
        f" SELECT * FROM ({' UNION ALL '.join(sql for sql, _params in branches)}) earned"
    )
    params: list[Any] = [*among_params, REFUND]
    for _sql, branch_params in branches:
        params.extend(branch_params)
    return sql, params
