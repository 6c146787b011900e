"""The KPIs cached per day: every figure for every scope a supervisor can pick, written as one
`KpiSnapshot` row per (day, scope) with a JSON payload.

Scopes: every program or one (with every tier of it or one), times every team or one. The
selectors run once (a fixed number of GROUP BY statements); each of their rows is then added
into the few scopes it belongs to, in Python. Writing is one `INSERT ... ON CONFLICT (day,
scope_key) DO UPDATE` per batch of scopes, so a rerun on the same day replaces the rows.

The payload holds counts only, so the payloads of several teams add up (`payload_merge`, for
a supervisor of several teams); rates are worked out when shown (`figures.py`):

    customers   customers, active_30, active_90, buyers, repeat_buyers, net_spend (text,
                a Decimal), retention_base, retained
    cohorts     months (first days, oldest first), cells[cohort][month]: customers
    nps         answers, promoters, detractors
    liability   accounts, points, value (text), negative_accounts, negative_points,
                negative_value (text)
    tiers       {tier id: members}
    movement    months, joined[], up[], down[] per month
    sla         {department: resolved, resolution_due, resolution_on_time, response_due,
                response_on_time}
    predicted_clv   None until the lifetime value model (loyalty/clv) has scored customers
                ("not yet computed"); then {"customers": n, "total": text}: the predicted
                CLV (average) shown is total / customers.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from crm.models import Team
from loyalty.models import Program, Tier
from workflows.kpis import selectors
from workflows.models import KpiSnapshot
from workflows.models.kpis import kpi_scope_key

logger = logging.getLogger(__name__)

PAYLOAD_VERSION = 1
CENT = Decimal("0.01")

ScopeKey = tuple[int | None, int | None, int | None]  # (program, team, tier)


def payload_empty(window: selectors.Window) -> dict[str, Any]:
    months = [month.isoformat() for month in window.months]
    zeros = [0] * selectors.MONTHS
    return {
        "version": PAYLOAD_VERSION,
        "day": window.day.isoformat(),
        "customers": {
            "customers": 0,
            "active_30": 0,
            "active_90": 0,
            "buyers": 0,
            "repeat_buyers": 0,
            "net_spend": "0.00",
            "retention_base": 0,
            "retained": 0,
        },
        "cohorts": {"months": months, "cells": [list(zeros) for _ in months]},
        "nps": {"answers": 0, "promoters": 0, "detractors": 0},
        "liability": {
            "accounts": 0,
            "points": 0,
            "value": "0.00",
            "negative_accounts": 0,
            "negative_points": 0,
            "negative_value": "0.00",
        },
        "tiers": {},
        "movement": {
            "months": months,
            "joined": list(zeros),
            "up": list(zeros),
            "down": list(zeros),
        },
        "sla": {},
        "predicted_clv": None,
    }


def _money(value: Any) -> Decimal:
    # SQLite sums decimals as floats: through str, rounded to the cent.
    return Decimal(str(value or 0)).quantize(CENT)


def _add_money(into: dict[str, Any], key: str, value: Any) -> None:
    into[key] = str(_money(into[key]) + _money(value))


def payload_merge(payloads: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The payloads of several scopes (a supervisor's teams) added up: every figure is a
    count or a sum. None when there is none."""
    merged: dict[str, Any] | None = None
    for payload in payloads:
        if merged is None:
            merged = _copy(payload)
            continue
        _merge_into(merged, payload)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


_MONEY_KEYS = {"net_spend", "value", "negative_value", "total"}
_LABEL_KEYS = {"version", "day", "months"}


def _merge_into(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if key in _LABEL_KEYS:
            continue
        current = into.get(key)
        if key == "predicted_clv":
            # Known for every team, or not at all.
            if current is None or value is None:
                into[key] = None
            else:
                _merge_into(current, value)
        elif isinstance(value, dict):
            if current is None:
                into[key] = _copy(value)
            else:
                _merge_into(current, value)
        elif isinstance(value, list):
            into[key] = _add_lists(current, value)
        elif key in _MONEY_KEYS:
            _add_money(into, key, value)
        else:
            into[key] = (current or 0) + (value or 0)


def _add_lists(left: list, right: list) -> list:
    if left and isinstance(left[0], list):
        return [_add_lists(a, b) for a, b in zip(left, right, strict=True)]
    return [a + b for a, b in zip(left, right, strict=True)]


@dataclass(frozen=True)
class Scopes:
    keys: list[ScopeKey]
    point_values: dict[int, Decimal]


def scopes_all() -> Scopes:
    """Every scope a supervisor can pick: {every, each program} x {every, each team}, and each
    tier of a program. Three queries."""
    programs = list(Program.objects.order_by("pk").values_list("pk", "point_value"))
    tiers: dict[int, list[int]] = defaultdict(list)
    for tier_id, program_id in Tier.objects.order_by("pk").values_list("pk", "program_id"):
        tiers[program_id].append(tier_id)
    teams: list[int | None] = [None, *Team.objects.order_by("pk").values_list("pk", flat=True)]
    program_scopes: list[tuple[int | None, int | None]] = [(None, None)]
    for program_id, _value in programs:
        program_scopes.append((program_id, None))
        program_scopes += [(program_id, tier_id) for tier_id in tiers[program_id]]
    keys = [
        (program_id, team_id, tier_id)
        for program_id, tier_id in program_scopes
        for team_id in teams
    ]
    return Scopes(keys=keys, point_values=dict(programs))


def _row_scopes(row: dict[str, Any], *, accounts: bool) -> list[ScopeKey]:
    """The scopes a selector row adds into (see selectors' docstring: customer, member and
    account rows)."""
    team_id, program_id, tier_id = row["team_id"], row["program_id"], row["tier_id"]
    teams = [None] if team_id is None else [None, team_id]
    if program_id is None:
        programs: list[tuple[int | None, int | None]] = [(None, None)]
    else:
        programs = [(program_id, None)]
        if tier_id is not None:
            programs.append((program_id, tier_id))
        if accounts:
            programs.append((None, None))
    return [(program, team, tier) for program, tier in programs for team in teams]


def _add(payloads: dict[ScopeKey, dict], row: dict, adder, *, accounts: bool = False) -> None:
    for key in _row_scopes(row, accounts=accounts):
        payload = payloads.get(key)
        if payload is not None:  # a team or tier created during the run: next time
            adder(payload, row)


def _add_customers(payload: dict, row: dict) -> None:
    figures = payload["customers"]
    for name in (
        "customers",
        "active_30",
        "active_90",
        "buyers",
        "repeat_buyers",
        "retention_base",
        "retained",
    ):
        figures[name] += int(row[name] or 0)
    _add_money(figures, "net_spend", row["net_spend"])


def _add_cohort(payload: dict, row: dict) -> None:
    if row["cohort"] is None:
        return
    cells = payload["cohorts"]["cells"][row["cohort"]]
    for month in range(selectors.MONTHS):
        cells[month] += int(row[f"bought_{month}"] or 0)


def _add_nps(payload: dict, row: dict) -> None:
    for name in ("answers", "promoters", "detractors"):
        payload["nps"][name] += int(row[name] or 0)


def _add_tiers(payload: dict, row: dict) -> None:
    key = str(row["tier_id"])
    payload["tiers"][key] = payload["tiers"].get(key, 0) + int(row["members"])


def _add_movement(payload: dict, row: dict) -> None:
    if row["month"] is None:
        return
    for name in ("joined", "up", "down"):
        payload["movement"][name][row["month"]] += int(row[name] or 0)


def _add_sla(payload: dict, row: dict) -> None:
    department = payload["sla"].setdefault(
        row["department"], dict.fromkeys(selectors.ATTAINMENT_COUNTS, 0)
    )
    for name in selectors.ATTAINMENT_COUNTS:
        department[name] += int(row[name] or 0)


def _liability_adder(point_values: dict[int, Decimal]):
    def add(payload: dict, row: dict) -> None:
        figures = payload["liability"]
        point_value = point_values.get(row["program_id"], Decimal(0))
        points, negative = int(row["points"] or 0), int(row["negative_points"] or 0)
        figures["accounts"] += int(row["accounts"] or 0)
        figures["points"] += points
        figures["negative_accounts"] += int(row["negative_accounts"] or 0)
        figures["negative_points"] += negative
        _add_money(figures, "value", Decimal(points) * point_value)
        _add_money(figures, "negative_value", Decimal(negative) * point_value)

    return add


def _add_predicted(payload: dict, row: dict) -> None:
    figures = payload["predicted_clv"]
    figures["customers"] += int(row["valued"] or 0)
    _add_money(figures, "total", row["predicted_total"])


def payloads_compute(*, day: date) -> dict[ScopeKey, dict[str, Any]]:
    """Every scope's payload for `day`: three queries for the scopes, nine for the figures."""
    window = selectors.window_for(day)
    scopes = scopes_all()
    payloads = {key: payload_empty(window) for key in scopes.keys}
    for row in selectors.customer_figures(window=window):
        _add(payloads, row, _add_customers)
    for row in selectors.cohort_cells(window=window):
        _add(payloads, row, _add_cohort)
    for row in selectors.nps_counts(window=window):
        _add(payloads, row, _add_nps)
    liability = _liability_adder(scopes.point_values)
    for row in selectors.points_balances():
        _add(payloads, row, liability, accounts=True)
    for row in selectors.tier_counts():
        _add(payloads, row, _add_tiers, accounts=True)
    for row in selectors.tier_movement(window=window):
        _add(payloads, row, _add_movement, accounts=True)
    for row in selectors.sla_counts(window=window):
        _add(payloads, row, _add_sla)
    valued = selectors.predicted_values()
    if valued:
        for payload in payloads.values():
            payload["predicted_clv"] = {"customers": 0, "total": "0.00"}
        for row in valued:
            _add(payloads, row, _add_predicted)
    return payloads


def kpi_snapshots_compute(*, day: date | None = None) -> int:
    """Compute and store every scope's figures for `day` (today by default); a second run on
    the same day replaces the rows (ON CONFLICT DO UPDATE). Returns the number of scopes."""
    day = day or timezone.localdate()
    payloads = payloads_compute(day=day)
    computed_at = timezone.now()
    rows = [
        KpiSnapshot(
            day=day,
            scope_key=kpi_scope_key(program_id=program_id, team_id=team_id, tier_id=tier_id),
            program_id=program_id,
            team_id=team_id,
            tier_id=tier_id,
            payload=payload,
            computed_at=computed_at,
        )
        for (program_id, team_id, tier_id), payload in payloads.items()
    ]
    with transaction.atomic():
        KpiSnapshot.objects.bulk_create(
            rows,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["day", "scope_key"],
            update_fields=["payload", "computed_at", "program", "team", "tier"],
        )
    logger.info("kpis: %s scopes computed for %s", len(rows), day)
    return len(rows)


@dataclass(frozen=True)
class SnapshotRead:
    day: date
    computed_at: Any
    payload: dict[str, Any]


def kpi_snapshot_latest(*, scope_keys: list[str], day: date | None = None) -> SnapshotRead | None:
    """The latest snapshot up to `day` (today) of the given scopes, added up when there are
    several (a supervisor's teams). One query."""
    day = day or timezone.localdate()
    rows = list(
        KpiSnapshot.objects.filter(scope_key__in=scope_keys, day__lte=day)
        .order_by("-day", "scope_key")
        .values("day", "computed_at", "payload")[: len(scope_keys) * 2]
    )
    if not rows:
        return None
    latest = [row for row in rows if row["day"] == rows[0]["day"]]
    return SnapshotRead(
        day=rows[0]["day"],
        computed_at=min(row["computed_at"] for row in latest),
        payload=payload_merge(row["payload"] for row in latest) or {},
    )
