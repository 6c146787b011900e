"""The supervisors' KPIs in set-based SQL: a fixed number of GROUP BY statements, whatever the
number of customers, transactions or scopes.

Every selector returns rows grouped at the finest grain a supervisor can pick, the customer's
team and, per loyalty program, the customer's current tier; `snapshots.py` adds them up into
every scope. Each row carries `team_id`, `program_id` and `tier_id`:

- customer rows (`program_id` None) count each customer once, whatever their programs;
  member rows (`program_id` set) count the program's members by their current tier. Both come
  from one statement (a UNION ALL over the same common table expression).
- account rows (points, tiers, movement) always belong to a program; `tier_id` None there is
  an account whose customer the evaluation has not placed in a tier yet.

Every count is additive (customers, answers, points, tickets), never a rate, so that the
figures of several teams add up; rates are worked out when they are shown (`figures.py`).

The day: a snapshot of day D counts what happened before D's local midnight (`as_of`), so a
rerun during D gives the same figures. Points balances, tiers and memberships are read as they
stand (the ledger and the memberships keep no history by day).

Windows: "the last 30/90 days" are [as_of - 30/90 days, as_of); months are local calendar
months, the last `MONTHS` of them up to D - 1's (cohorts, movement).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from crm.models import Customer, Interaction, Transaction
from loyalty.reports.months import month_add
from workflows.feedback.dashboard import DETRACTOR_MAX, PROMOTER_MIN
from workflows.models import Ticket
from workflows.tickets.reports import ATTAINMENT_COUNTS

MONTHS = 12
ACTIVE_DAYS = (30, 90)
RETENTION_DAYS = 90
NPS_DAYS = 90
SLA_DAYS = 30

# An interaction the customer started: a login, a visit, a review, a ticket or a feedback
# answer. Calls, messages, notes and adopted suggestions are the staff's doing.
ACTIVE_INTERACTION_KINDS = (
    Interaction.Kind.LOGIN,
    Interaction.Kind.VISIT,
    Interaction.Kind.REVIEW,
    Interaction.Kind.TICKET,
    Interaction.Kind.FEEDBACK,
)

Row = dict[str, Any]


@dataclass(frozen=True)
class Window:
    """The instants a snapshot of `day` measures from."""

    day: date
    as_of: datetime  # local midnight starting `day`
    months: tuple[date, ...]  # the first days of the last MONTHS local months, oldest first

    @property
    def month_starts(self) -> list[datetime]:
        return [_local_midnight(month) for month in self.months]

    def days_before(self, days: int) -> datetime:
        return _local_midnight(self.day - timedelta(days=days))


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def window_for(day: date) -> Window:
    last_month = (day - timedelta(days=1)).replace(day=1)
    months = tuple(month_add(last_month, offset) for offset in range(1 - MONTHS, 1))
    return Window(day=day, as_of=_local_midnight(day), months=months)


def _at(value: datetime) -> Any:
    """A datetime as the database compares it (naive UTC text on SQLite)."""
    return connection.ops.adapt_datetimefield_value(value)


def _on(value: date) -> Any:
    return connection.ops.adapt_datefield_value(value)


def _month_case(column: str, names: Sequence[str]) -> str:
    """The index (0 = oldest) of the month `column` falls in, NULL before the first; `names`
    are the parameters holding the months' starts, oldest first."""
    whens = " ".join(
        f"WHEN {column} >= %({name})s THEN {index}"
        for index, name in reversed(list(enumerate(names)))
    )
    return f"CASE {whens} END"


def _month_params(prefix: str, values: Sequence[Any]) -> dict[str, Any]:
    return {f"{prefix}{index}": value for index, value in enumerate(values)}


def _month_names(prefix: str) -> list[str]:
    return [f"{prefix}{index}" for index in range(MONTHS)]


def _fetch(sql: str, params: dict[str, Any]) -> list[Row]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [column[0] for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _customer_and_member_rows(cte: str, source: str, columns: str) -> str:
    """`columns` aggregated over `source` (a CTE with customer_id and team_id) per team for
    customer rows, then per team, program and current tier for member rows."""
    return f"""
        {cte}
        SELECT s.team_id, CAST(NULL AS INTEGER) AS program_id, CAST(NULL AS INTEGER) AS tier_id,
               {columns}
          FROM {source} s
         GROUP BY s.team_id
        UNION ALL
        SELECT s.team_id, m.program_id, m.tier_id, {columns}
          FROM {source} s
          JOIN loyalty_membership m ON m.customer_id = s.customer_id
         GROUP BY s.team_id, m.program_id, m.tier_id
    """


def customer_figures(*, window: Window) -> list[Row]:
    """Per group: customers, active in 30 and 90 days, buyers, repeat buyers, net spend of the
    buyers, and the retention base and retained. One statement, one pass over the
    transactions before `as_of` and one over the last 90 days' interactions.

    - customers: not merged into another, created before `as_of`;
    - active in N days: a purchase or an interaction the customer started
      (ACTIVE_INTERACTION_KINDS) in the last N days;
    - buyers: at least one purchase before `as_of`; repeat buyers: at least two;
    - net spend: purchases minus refunds, to date (historical CLV = net spend / buyers);
    - retention: of the customers who bought in the 90 days before the last 90, those who
      bought again in the last 90.
    """
    kind_names = [f"kind{index}" for index in range(len(ACTIVE_INTERACTION_KINDS))]
    interaction_kinds = ", ".join(f"%({name})s" for name in kind_names)
    cte = f"""
        WITH facts AS (
            SELECT t.customer_id,
                   SUM(CASE WHEN t.kind = %(purchase)s THEN 1 ELSE 0 END) AS purchases,
                   SUM(CASE WHEN t.kind = %(purchase)s THEN t.amount ELSE -t.amount END)
                       AS net_spend,
                   MAX(CASE WHEN t.kind = %(purchase)s AND t.occurred_at >= %(since_30)s
                            THEN 1 ELSE 0 END) AS bought_30,
                   MAX(CASE WHEN t.kind = %(purchase)s AND t.occurred_at >= %(since_90)s
                            THEN 1 ELSE 0 END) AS bought_90,
                   MAX(CASE WHEN t.kind = %(purchase)s AND t.occurred_at >= %(since_180)s
                             AND t.occurred_at < %(since_90)s THEN 1 ELSE 0 END) AS bought_before
              FROM crm_transaction t
             WHERE t.kind IN (%(purchase)s, %(refund)s) AND t.occurred_at < %(as_of)s
             GROUP BY t.customer_id
        ),
        acts AS (
            SELECT i.customer_id,
                   MAX(CASE WHEN i.occurred_at >= %(since_30)s THEN 1 ELSE 0 END) AS act_30
              FROM crm_interaction i
             WHERE i.kind IN ({interaction_kinds})
               AND i.occurred_at >= %(since_90)s AND i.occurred_at < %(as_of)s
             GROUP BY i.customer_id
        ),
        base AS (
            SELECT c.id AS customer_id, c.team_id,
                   CASE WHEN f.bought_30 = 1 OR a.act_30 = 1 THEN 1 ELSE 0 END AS active_30,
                   CASE WHEN f.bought_90 = 1 OR a.customer_id IS NOT NULL THEN 1 ELSE 0 END
                       AS active_90,
                   COALESCE(f.purchases, 0) AS purchases,
                   COALESCE(f.net_spend, 0) AS net_spend,
                   COALESCE(f.bought_90, 0) AS bought_90,
                   COALESCE(f.bought_before, 0) AS bought_before
              FROM crm_customer c
              LEFT JOIN facts f ON f.customer_id = c.id
              LEFT JOIN acts a ON a.customer_id = c.id
             WHERE c.status <> %(merged)s AND c.created_at < %(as_of)s
        )
    """
    columns = """
        COUNT(*) AS customers,
        SUM(s.active_30) AS active_30,
        SUM(s.active_90) AS active_90,
        SUM(CASE WHEN s.purchases >= 1 THEN 1 ELSE 0 END) AS buyers,
        SUM(CASE WHEN s.purchases >= 2 THEN 1 ELSE 0 END) AS repeat_buyers,
        SUM(CASE WHEN s.purchases >= 1 THEN s.net_spend ELSE 0 END) AS net_spend,
        SUM(s.bought_before) AS retention_base,
        SUM(CASE WHEN s.bought_before = 1 AND s.bought_90 = 1 THEN 1 ELSE 0 END) AS retained
    """
    params = {
        "purchase": Transaction.Kind.PURCHASE.value,
        "refund": Transaction.Kind.REFUND.value,
        "merged": Customer.Status.MERGED.value,
        **{
            name: kind.value
            for name, kind in zip(kind_names, ACTIVE_INTERACTION_KINDS, strict=True)
        },
        "as_of": _at(window.as_of),
        "since_30": _at(window.days_before(ACTIVE_DAYS[0])),
        "since_90": _at(window.days_before(ACTIVE_DAYS[1])),
        "since_180": _at(window.days_before(2 * RETENTION_DAYS)),
    }
    return _fetch(_customer_and_member_rows(cte, "base", columns), params)


def cohort_cells(*, window: Window) -> list[Row]:
    """Cohort retention: per group and cohort (the month of the customer's first purchase, an
    index into `window.months`), `bought_<k>`: the customers of the cohort who bought in month
    k. The cohort's size is its own month's count. Customers whose first purchase is older
    than the first month are in no cohort.

    One statement and one pass over the purchases: per customer, the first purchase and, for
    each month, whether they bought in it (a DISTINCT (customer, month) list joined back to
    the first purchases took three times as long at ten million transactions).
    """
    names = _month_names("m")
    bought = ",\n".join(
        f"MAX(CASE WHEN t.occurred_at >= %(m{index})s"
        + (f" AND t.occurred_at < %(m{index + 1})s" if index + 1 < MONTHS else "")
        + f" THEN 1 ELSE 0 END) AS bought_{index}"
        for index in range(MONTHS)
    )
    sums = ", ".join(f"SUM(s.bought_{index}) AS bought_{index}" for index in range(MONTHS))
    sql = f"""
        WITH firsts AS (
            SELECT t.customer_id, MIN(t.occurred_at) AS first_at, {bought}
              FROM crm_transaction t
             WHERE t.kind = %(purchase)s AND t.occurred_at < %(as_of)s
             GROUP BY t.customer_id
            HAVING MIN(t.occurred_at) >= %(m0)s
        ),
        cohorts AS (
            SELECT f.*, c.team_id, {_month_case("f.first_at", names)} AS cohort
              FROM firsts f
              JOIN crm_customer c ON c.id = f.customer_id
        )
        SELECT s.team_id, CAST(NULL AS INTEGER) AS program_id, CAST(NULL AS INTEGER) AS tier_id,
               s.cohort, {sums}
          FROM cohorts s
         GROUP BY s.team_id, s.cohort
        UNION ALL
        SELECT s.team_id, m.program_id, m.tier_id, s.cohort, {sums}
          FROM cohorts s
          JOIN loyalty_membership m ON m.customer_id = s.customer_id
         GROUP BY s.team_id, m.program_id, m.tier_id, s.cohort
    """
    params = {
        "purchase": Transaction.Kind.PURCHASE.value,
        "as_of": _at(window.as_of),
        **_month_params("m", [_at(start) for start in window.month_starts]),
    }
    return _fetch(sql, params)


def nps_counts(*, window: Window) -> list[Row]:
    """NPS answers of the last NPS_DAYS days: answers, promoters (9-10) and detractors (0-6),
    the feedback dashboard's thresholds. Anonymous answers (open links) have no team: they
    count in the company-wide figures only. One statement."""
    cte = """
        WITH answers AS (
            SELECT r.customer_id, c.team_id, r.nps
              FROM workflows_feedbackresponse r
              LEFT JOIN crm_customer c ON c.id = r.customer_id
             WHERE r.nps IS NOT NULL
               AND r.submitted_at >= %(since)s AND r.submitted_at < %(as_of)s
        )
    """
    columns = """
        COUNT(*) AS answers,
        SUM(CASE WHEN s.nps >= %(promoter_min)s THEN 1 ELSE 0 END) AS promoters,
        SUM(CASE WHEN s.nps <= %(detractor_max)s THEN 1 ELSE 0 END) AS detractors
    """
    params = {
        "since": _at(window.days_before(NPS_DAYS)),
        "as_of": _at(window.as_of),
        "promoter_min": PROMOTER_MIN,
        "detractor_max": DETRACTOR_MAX,
    }
    return _fetch(_customer_and_member_rows(cte, "answers", columns), params)


def predicted_values() -> list[Row]:
    """The customers with a predicted lifetime value (loyalty/clv, refreshed nightly) and the
    sum of their predicted values, as customer and member rows. One statement; no rows when
    the model has not run yet."""
    cte = """
        WITH valued AS (
            SELECT v.customer_id, c.team_id, v.predicted_value
              FROM loyalty_customervalue v
              JOIN crm_customer c ON c.id = v.customer_id
        )
    """
    columns = "COUNT(*) AS valued, SUM(s.predicted_value) AS predicted_total"
    return _fetch(_customer_and_member_rows(cte, "valued", columns), {})


def points_balances() -> list[Row]:
    """Account rows: per team, program and current tier, the accounts with a positive balance
    and their points (the liability, valued by `snapshots.py` at the program's point value),
    and the negative balances apart (debts, never netted). One statement, as the liability
    report (loyalty/reports/liability.py) groups them."""
    sql = """
        SELECT c.team_id, a.program_id, m.tier_id,
               SUM(CASE WHEN a.balance > 0 THEN 1 ELSE 0 END) AS accounts,
               SUM(CASE WHEN a.balance > 0 THEN a.balance ELSE 0 END) AS points,
               SUM(CASE WHEN a.balance < 0 THEN 1 ELSE 0 END) AS negative_accounts,
               SUM(CASE WHEN a.balance < 0 THEN a.balance ELSE 0 END) AS negative_points
          FROM loyalty_pointsaccount a
          JOIN crm_customer c ON c.id = a.customer_id
          LEFT JOIN loyalty_membership m
                 ON m.customer_id = a.customer_id AND m.program_id = a.program_id
         WHERE a.balance <> 0
         GROUP BY c.team_id, a.program_id, m.tier_id
    """
    return _fetch(sql, {})


def tier_counts() -> list[Row]:
    """Account rows: members per team, program and current tier. One statement."""
    sql = """
        SELECT c.team_id, m.program_id, m.tier_id, COUNT(*) AS members
          FROM loyalty_membership m
          JOIN crm_customer c ON c.id = m.customer_id
         GROUP BY c.team_id, m.program_id, m.tier_id
    """
    return _fetch(sql, {})


def tier_movement(*, window: Window) -> list[Row]:
    """Account rows: per team, program, the customer's current tier and month of evaluation,
    the changes of tier recorded: up (to a higher rank), down (to a lower one: a downgrade or a
    credit event) and joined (a first tier). One statement over the history."""
    names = _month_names("d")
    sql = f"""
        SELECT x.team_id, x.program_id, x.tier_id, x.month,
               SUM(x.joined) AS joined, SUM(x.up) AS up, SUM(x.down) AS down
          FROM (
            SELECT c.team_id, h.program_id, m.tier_id,
                   {_month_case("h.evaluated_on", names)} AS month,
                   CASE WHEN h.from_tier_id IS NULL THEN 1 ELSE 0 END AS joined,
                   CASE WHEN t_to.rank > t_from.rank THEN 1 ELSE 0 END AS up,
                   CASE WHEN t_to.rank < t_from.rank THEN 1 ELSE 0 END AS down
              FROM loyalty_membershipchange h
              JOIN loyalty_membership m ON m.id = h.membership_id
              JOIN crm_customer c ON c.id = h.customer_id
              JOIN loyalty_tier t_to ON t_to.id = h.to_tier_id
              LEFT JOIN loyalty_tier t_from ON t_from.id = h.from_tier_id
             WHERE h.evaluated_on >= %(d0)s AND h.evaluated_on < %(day)s
          ) x
         GROUP BY x.team_id, x.program_id, x.tier_id, x.month
    """
    params = {"day": _on(window.day), **_month_params("d", [_on(m) for m in window.months])}
    return _fetch(sql, params)


def sla_counts(*, window: Window) -> list[Row]:
    """SLA attainment of the tickets resolved in the last SLA_DAYS days, per department: the
    ticket reports' counts (workflows/tickets/reports.py, ATTAINMENT_COUNTS). Team is the
    ticket's (its customer's team when it was opened), as the ticket reports scope it; program
    and tier are the customer's today. Two GROUP BY queries: customer rows, member rows."""
    resolved = Ticket.objects.filter(
        resolved_at__gte=window.days_before(SLA_DAYS), resolved_at__lt=window.as_of
    ).order_by()
    rows: list[Row] = [
        {**row, "program_id": None, "tier_id": None}
        for row in resolved.values("team_id", "department").annotate(**ATTAINMENT_COUNTS)
    ]
    # One LEFT JOIN to the memberships, shared by both annotations; a ticket counts once per
    # program its customer is a member of.
    member_rows = (
        resolved.annotate(
            member_program=F("customer__memberships__program_id"),
            member_tier=F("customer__memberships__tier_id"),
        )
        .filter(member_program__isnull=False)
        .values("team_id", "department", "member_program", "member_tier")
        .annotate(**ATTAINMENT_COUNTS)
    )
    for row in member_rows:
        row["program_id"], row["tier_id"] = row.pop("member_program"), row.pop("member_tier")
        rows.append(row)
    return rows
