"""The evaluation's scratch table: one row per customer of a program with every metric of its
rules, the tier the customer qualifies for and what the rules of movement decide, filled by
ONE CREATE TABLE ... AS SELECT whatever the number of customers.

The evaluation (services/evaluation.py) writes memberships, history and warnings from it with
a few set-based statements; the rule-change preview only counts it. The SQL is built from the
rules (loyalty/rules.py) with every value bound as a parameter, and runs on SQLite and
PostgreSQL alike (PostgreSQL gets ANALYZE and a jsonb cast, nothing else differs).

Columns:
  customer_id, membership_id (NULL: not a member yet), current_rank (0: none), months_under,
  warning_id / warning_deadline (the open downgrade warning), grace (1: an approved grace
  period runs), blocked (1: a serious credit event inside the block), credit_event_at,
  m0..mN (the metrics, rounded to cents; 0 when the customer has no row),
  qualified_rank (0: no tier holds), qualified_group (index into `groups`), under_ratio (1:
  no group of the current tier holds even at the warning ratio), to_rank and kind (the change
  this evaluation makes, kind NULL: none).
"""

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import connection
from django.db.models import Q, QuerySet

from crm.models import CreditEvent, Customer
from loyalty.metrics import get_metric
from loyalty.metrics.base import GroupedMetric, end_of_day, grouped_values
from loyalty.models import DowngradeWarning, GracePeriod, MembershipChange
from loyalty.rules import ConditionRule, GroupRule, MetricKey, ProgramRules, TierRule

TABLE = "loyalty_evaluation_scratch"
Kind = MembershipChange.Kind


@dataclass(frozen=True)
class Movement:
    """The rules of movement's numbers, from the Program."""

    warning_ratio: Decimal = Decimal("0.50")
    credit_block_months: int = 12


class Scratch:
    """The filled table of one evaluation (use `scratch_table`, which drops it afterwards)."""

    def __init__(
        self,
        rules: ProgramRules,
        *,
        as_of: date,
        movement: Movement,
        customer_id: int | None = None,
    ) -> None:
        self.rules = rules
        self.as_of = as_of
        self.movement = movement
        self.customer_id = customer_id
        self.keys = rules.metric_keys()
        self.columns = {key: f"m{index}" for index, key in enumerate(self.keys)}
        # Highest tier first: the first group that holds is the one the customer qualifies by.
        self.groups: list[tuple[TierRule, GroupRule]] = [
            (tier, group) for tier in reversed(rules.tiers) for group in tier.groups
        ]

    # -- building ------------------------------------------------------------------------

    def fill(self) -> None:
        """CREATE TABLE ... AS SELECT: unlike INSERT ... SELECT, PostgreSQL may compute the
        metrics' aggregates with parallel workers."""
        sql, params = self._fill_sql()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
            cursor.execute(sql, params)
            if connection.vendor == "postgresql":
                cursor.execute(f"ANALYZE {TABLE}")

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")

    def _fill_sql(self) -> tuple[str, list[Any]]:
        sql, params = self.select_sql()
        return f"CREATE TEMPORARY TABLE {TABLE} AS {sql}", params

    def select_sql(self) -> tuple[str, list[Any]]:
        """The rows of the table, as a SELECT."""
        base, params = self._customers_sql()
        qualified_rank, p1 = self.qualified_rank_sql()
        qualified_group, p2 = self._qualified_group_sql()
        under_ratio, p3 = self._under_ratio_sql()
        to_rank, kind, p4 = self._decision_sql()
        sql = (
            f"SELECT d.*, {to_rank} AS to_rank, {kind} AS kind FROM ("
            f"SELECT q.*, {qualified_rank} AS qualified_rank,"
            f" {qualified_group} AS qualified_group, {under_ratio} AS under_ratio"
            f" FROM ({base}) q) d"
        )
        return sql, [*p4, *p1, *p2, *p3, *params]

    def _customers_sql(self) -> tuple[str, list[Any]]:
        """Every customer existing on `as_of` with their membership state and metrics."""
        joins: list[str] = []
        params: list[Any] = []
        found_in: dict[str, str] = {}  # metric column -> "subquery.column" holding its value
        for alias, (rows, columns) in enumerate(self._metric_queries()):
            if self.customer_id is not None:
                rows = rows.filter(customer_id=self.customer_id)
            metric_sql, metric_params = rows.query.sql_with_params()
            joins.append(f" LEFT JOIN ({metric_sql}) q{alias} ON q{alias}.customer_id = c.id")
            params.extend(metric_params)
            found_in.update({column: f"q{alias}.{value}" for column, value in columns.items()})
        metric_selects = [
            f", ROUND(COALESCE(CAST({found_in[column]} AS NUMERIC), 0), 2) AS {column}"
            for column in self.columns.values()
        ]
        block_starts = end_of_day(
            self.as_of - relativedelta(months=self.movement.credit_block_months)
        )
        program_id = self.rules.program_id
        sql = (
            "SELECT c.id AS customer_id, ms.id AS membership_id,"
            " COALESCE(t.rank, 0) AS current_rank,"
            " COALESCE(ms.months_under_ratio, 0) AS months_under,"
            " w.id AS warning_id, w.deadline AS warning_deadline,"
            " CASE WHEN g.customer_id IS NULL THEN 0 ELSE 1 END AS grace,"
            " CASE WHEN ce.customer_id IS NULL THEN 0 ELSE 1 END AS blocked,"
            f" ce.occurred_at AS credit_event_at{''.join(metric_selects)}"
            f" FROM {Customer._meta.db_table} c"
            " LEFT JOIN loyalty_membership ms ON ms.customer_id = c.id AND ms.program_id = %s"
            " LEFT JOIN loyalty_tier t ON t.id = ms.tier_id"
            f" LEFT JOIN {DowngradeWarning._meta.db_table} w"
            "  ON w.membership_id = ms.id AND w.status = %s"
            " LEFT JOIN (SELECT customer_id"
            f"  FROM {GracePeriod._meta.db_table} WHERE program_id = %s AND status IN (%s, %s)"
            "  AND starts_on <= %s AND ends_on > %s GROUP BY customer_id) g"
            "  ON g.customer_id = c.id"
            " LEFT JOIN (SELECT customer_id, MAX(occurred_at) AS occurred_at"
            f"  FROM {CreditEvent._meta.db_table} WHERE severity = %s"
            "  AND occurred_at >= %s AND occurred_at < %s GROUP BY customer_id) ce"
            "  ON ce.customer_id = c.id"
            f"{''.join(joins)}"
            " WHERE c.created_at < %s AND c.status <> %s"
        )
        head = [
            program_id,
            DowngradeWarning.Status.OPEN,
            program_id,
            # An ended period still covered its days: a re-run of a past day sees it.
            GracePeriod.Status.APPROVED,
            GracePeriod.Status.ENDED,
            adapt(self.as_of),
            adapt(self.as_of),
            CreditEvent.Severity.SERIOUS,
            adapt(block_starts),
            adapt(end_of_day(self.as_of)),
        ]
        tail: list[Any] = [adapt(end_of_day(self.as_of)), Customer.Status.MERGED]
        if self.customer_id is not None:
            sql += " AND c.id = %s"
            tail.append(self.customer_id)
        return sql, [*head, *params, *tail]

    def _metric_queries(self) -> list[tuple[QuerySet, dict[str, str]]]:
        """One query per metric, except that grouped metrics of one source share a query:
        [(rows of customer_id and values, {metric column: the query's column})]."""
        queries: list[tuple[QuerySet, dict[str, str]]] = []
        grouped: dict[str, list[tuple[str, GroupedMetric, Q]]] = {}
        for (code, window_months, parameters), column in self.columns.items():
            metric = get_metric(code)
            cleaned = metric.clean_parameters(dict(parameters))
            if isinstance(metric, GroupedMetric):
                rows = metric.rows(
                    as_of=self.as_of, window_months=window_months, parameters=cleaned
                )
                grouped.setdefault(metric.source_name, []).append((column, metric, rows))
            else:
                values = metric.values(
                    as_of=self.as_of, window_months=window_months, parameters=cleaned
                )
                queries.append((values, {column: "value"}))
        for metrics in grouped.values():
            columns = {column: column for column, _metric, _rows in metrics}
            queries.append((grouped_values(metrics), columns))
        return queries

    def _condition_sql(self, condition: ConditionRule, ratio: Decimal) -> tuple[str, list[Any]]:
        column = self.columns[condition.key]
        return f"{column} {condition.operator} CAST(%s AS NUMERIC)", [
            adapt(condition.threshold_at(ratio))
        ]

    def _group_sql(self, group: GroupRule, ratio: Decimal = Decimal(1)) -> tuple[str, list]:
        conditions = [self._condition_sql(condition, ratio) for condition in group.conditions]
        return _joined(conditions, "AND", empty="1 = 1")

    def _tier_sql(self, tier: TierRule, ratio: Decimal = Decimal(1)) -> tuple[str, list]:
        groups = [self._group_sql(group, ratio) for group in tier.groups]
        return _joined(groups, "OR", empty="1 = 0")

    def qualified_rank_sql(self) -> tuple[str, list[Any]]:
        whens, params = [], []
        for tier in reversed(self.rules.tiers):
            sql, tier_params = self._tier_sql(tier)
            whens.append(f" WHEN {sql} THEN {int(tier.rank)}")
            params.extend(tier_params)
        if not whens:
            return "0", []
        return f"CASE{''.join(whens)} ELSE 0 END", params

    def _qualified_group_sql(self) -> tuple[str, list[Any]]:
        whens, params = [], []
        for index, (_tier, group) in enumerate(self.groups):
            sql, group_params = self._group_sql(group)
            whens.append(f" WHEN {sql} THEN {index}")
            params.extend(group_params)
        if not whens:
            return "NULL", []
        return f"CASE{''.join(whens)} ELSE NULL END", params

    def _under_ratio_sql(self) -> tuple[str, list[Any]]:
        whens, params = [], []
        for tier in self.rules.tiers:
            sql, tier_params = self._tier_sql(tier, self.movement.warning_ratio)
            whens.append(f" WHEN {int(tier.rank)} THEN CASE WHEN {sql} THEN 0 ELSE 1 END")
            params.extend(tier_params)
        if not whens:
            return "0", []
        return f"CASE current_rank{''.join(whens)} ELSE 0 END", params

    def _decision_sql(self) -> tuple[str, str, list[Any]]:
        """The rules of movement, in order: joining, a serious credit event (down to the base
        tier, no upgrade while blocked), an upgrade, a downgrade when an open warning's
        deadline has come and no grace period runs."""
        base = self.rules.base
        if base is None:  # a program without tiers: nobody joins, nothing moves
            return "current_rank", "NULL", []
        base_rank = base.rank
        below = "".join(
            f" WHEN {tier.rank} THEN {lower.rank}"
            for tier in self.rules.tiers
            if (lower := self.rules.below(tier.rank)) is not None
        )
        below_sql = f"CASE current_rank{below} ELSE current_rank END" if below else "current_rank"
        # (condition, its parameters, the rank it moves to, the kind of change), in order.
        cases: list[tuple[str, list[Any], str, str]] = [
            ("membership_id IS NULL AND blocked = 1", [], str(base_rank), Kind.JOINED),
            ("membership_id IS NULL AND qualified_rank > 0", [], "qualified_rank", Kind.JOINED),
            (
                f"blocked = 1 AND current_rank > {base_rank}",
                [],
                str(base_rank),
                Kind.CREDIT_EVENT,
            ),
            ("blocked = 0 AND qualified_rank > current_rank", [], "qualified_rank", Kind.UPGRADE),
            (
                "warning_id IS NOT NULL AND grace = 0 AND qualified_rank < current_rank"
                f" AND current_rank > {base_rank} AND warning_deadline <= %s",
                [adapt(self.as_of)],
                below_sql,
                Kind.DOWNGRADE,
            ),
        ]
        to_rank = "CASE" + "".join(f" WHEN {when} THEN {rank}" for when, _p, rank, _k in cases)
        kind = "CASE" + "".join(f" WHEN {when} THEN %s" for when, _p, _r, _k in cases)
        params = [param for _w, when_params, _r, _k in cases for param in when_params]
        for _when, when_params, _rank, change_kind in cases:
            params.extend([*when_params, change_kind])
        return f"{to_rank} ELSE current_rank END", f"{kind} ELSE NULL END", params

    # -- reading -------------------------------------------------------------------------

    def reason_sql(self, alias: str = "s") -> tuple[str, list[Any]]:
        """A JSON text per row explaining its change: the criteria that held with their
        values, the warning that ran out, or the credit event."""
        whens, params = [], []
        for index, (tier, group) in enumerate(self.groups):
            template = {
                "rule": "criteria",
                "tier_rank": tier.rank,
                "group_id": group.id,
                "group": group.name,
                "conditions": [
                    {
                        **condition.describe(Decimal(0)),
                        "value": f"@@{self.columns[condition.key]}@@",
                    }
                    for condition in group.conditions
                ],
            }
            sql, template_params = _json_with_columns(template, alias)
            whens.append(f" WHEN {alias}.qualified_group = {index} THEN {sql}")
            params.extend(template_params)
        warning_sql, warning_params = _json_with_columns(
            {"rule": "warning", "warning_id": "@@warning_id@@", "deadline": "@@warning_deadline@@"},
            alias,
        )
        credit_sql, credit_params = _json_with_columns(
            {"rule": "credit_event", "occurred_at": "@@credit_event_at@@"}, alias
        )
        sql = (
            f"CASE WHEN {alias}.blocked = 1 THEN {credit_sql}"
            f" WHEN {alias}.kind = %s THEN {warning_sql}"
            f"{''.join(whens)} ELSE '{{}}' END"
        )
        params = [*credit_params, Kind.DOWNGRADE, *warning_params, *params]
        if connection.vendor == "postgresql":
            sql = f"CAST({sql} AS jsonb)"
        return sql, params

    def metric_values(self, row: dict[str, Any]) -> dict[MetricKey, Decimal]:
        return {key: Decimal(str(row[column])) for key, column in self.columns.items()}


def scratch_row(
    rules: ProgramRules, *, as_of: date, movement: Movement, customer_id: int
) -> tuple[Scratch, dict[str, Any] | None]:
    """One customer's row, from the same SELECT as the table but without creating one: a read
    (the explanation) writes nothing, not even a temporary table's catalogue rows."""
    scratch = Scratch(rules, as_of=as_of, movement=movement, customer_id=customer_id)
    sql, params = scratch.select_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        found = cursor.fetchone()
    return scratch, dict(zip(names, found, strict=True)) if found else None


@contextmanager
def scratch_table(
    rules: ProgramRules, *, as_of: date, movement: Movement, customer_id: int | None = None
) -> Iterator[Scratch]:
    """The filled scratch table, dropped on the way out (call inside a transaction)."""
    scratch = Scratch(rules, as_of=as_of, movement=movement, customer_id=customer_id)
    try:
        scratch.fill()
        yield scratch
    finally:
        scratch.drop()


def _joined(parts: list[tuple[str, list[Any]]], operator: str, *, empty: str) -> tuple[str, list]:
    """(sql, params) pairs joined by AND or OR in parentheses; `empty` when there are none."""
    if not parts:
        return empty, []
    sql = f" {operator} ".join(part for part, _params in parts)
    return f"({sql})", [param for _part, params in parts for param in params]


_COLUMN = re.compile(r'"@@(\w+)@@"')


def _json_with_columns(template: dict[str, Any], alias: str) -> tuple[str, list[Any]]:
    """SQL building `template` as JSON text, with "@@column@@" placeholders replaced by the
    row's column as a JSON string (or null). The literal parts are bound parameters."""
    pieces = _COLUMN.split(json.dumps(template, ensure_ascii=False, default=str))
    parts, params = [], []
    for position, piece in enumerate(pieces):
        if position % 2 == 0:
            parts.append("CAST(%s AS TEXT)")
            params.append(piece)
        else:
            column = f"{alias}.{piece}"
            parts.append(
                f"CASE WHEN {column} IS NULL THEN 'null'"
                f" ELSE '\"' || CAST({column} AS TEXT) || '\"' END"
            )
    return " || ".join(parts), params


def adapt(value: Any) -> Any:
    """A parameter as the database stores it: SQLite keeps datetimes as naive UTC text."""
    operations = connection.ops
    if isinstance(value, datetime):
        return operations.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return operations.adapt_datefield_value(value)
    if isinstance(value, Decimal):
        return operations.adapt_decimalfield_value(value)
    return value
