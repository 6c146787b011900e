"""The points' buying power over time: what 1,000 points buy in the catalogue, year by year.

The method, per program and year (from the year of the program's first reward history row to
this year):
- each reward as it stood at the end of the year (its last history row on or before 31
  December, local time; for this year, the reward as it is today);
- the rewards available in that year: active then, and valid for part of the year (no
  `valid_from` after the year's end, or after today for this year; no `valid_until` before
  1 January); a reward deleted by then does not count;
- for each, the money 1,000 points buy: 1,000 x value / points price; the year's figure is the
  plain average over those rewards (each reward weighs the same, whatever it sells);
- a year whose figure is more than 5% below the previous year's is a warning.

The catalogue and its history are small (hundreds of rewards, a row per edit, stock changes
are not recorded), so both are read in one query each and replayed per year here.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.utils import timezone

from loyalty.models import Program, Reward

BUYING_POWER_POINTS = 1000
BUYING_POWER_WARNING_DROP = Decimal("0.05")
_FIELDS = ("id", "program_id", "points_price", "value", "is_active", "valid_from", "valid_until")
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class BuyingPowerYear:
    year: int
    rewards: int  # rewards available in the year
    value: Decimal | None  # what 1,000 points buy; None: no reward available
    change: Decimal | None  # against the previous year's figure, e.g. -0.0625
    is_warning: bool  # more than BUYING_POWER_WARNING_DROP below the previous year

    @property
    def change_percent(self) -> Decimal | None:
        return None if self.change is None else (self.change * 100).quantize(_CENT)


@dataclass
class ProgramBuyingPower:
    program: Program
    years: list[BuyingPowerYear] = field(default_factory=list)

    @property
    def warnings(self) -> int:
        return sum(year.is_warning for year in self.years)


def points_buying_power(*, today: date | None = None) -> list[ProgramBuyingPower]:
    """Every program's buying power per year, oldest first. Three queries.

    The catalogue is the same for every reader: no customer's data is involved.
    """
    today = today or timezone.localdate()
    programs = list(Program.objects.order_by("code"))
    history: dict[int, list[dict[str, Any]]] = defaultdict(list)  # reward -> its rows, in order
    first_year: dict[int, int] = {}
    rows = (
        Reward.history.filter(history_date__lt=_year_start(today.year + 1))
        .order_by("id", "history_date", "history_id")
        .values(*_FIELDS, "history_date", "history_type")
    )
    for row in rows:
        history[row["id"]].append(row)
        year = timezone.localtime(row["history_date"]).year
        first_year[row["program_id"]] = min(first_year.get(row["program_id"], year), year)
    current = defaultdict(list)
    for row in Reward.objects.order_by("id").values(*_FIELDS):
        current[row["program_id"]].append(row)
    start_year = min([*first_year.values(), today.year])
    past_states = {
        year: _states_at_year_end(history, year) for year in range(start_year, today.year)
    }
    report = []
    for program in programs:
        item = ProgramBuyingPower(program=program)
        previous: Decimal | None = None
        for year in range(first_year.get(program.pk, today.year), today.year + 1):
            if year == today.year:
                states, period_end = current[program.pk], today
            else:
                states, period_end = past_states[year][program.pk], None
            figure = _year_figure(year, states, previous, period_end=period_end)
            item.years.append(figure)
            if figure.value is not None:
                previous = figure.value
        report.append(item)
    return report


def _states_at_year_end(
    history: dict[int, list[dict[str, Any]]], year: int
) -> dict[int, list[dict[str, Any]]]:
    """Per program, its rewards as of the year's end: each reward's last history row before the
    next year began (local time), unless that row records the reward's deletion."""
    cutoff = _year_start(year + 1)
    states: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for rows in history.values():
        state = None
        for row in rows:
            if row["history_date"] >= cutoff:
                break
            state = row
        if state and state["history_type"] != "-":
            states[state["program_id"]].append(state)
    return states


def _year_start(year: int) -> datetime:
    """Local midnight of 1 January, as an aware datetime."""
    return timezone.make_aware(datetime.combine(date(year, 1, 1), time.min))


def _year_figure(
    year: int,
    states: list[dict[str, Any]],
    previous: Decimal | None,
    *,
    period_end: date | None,
) -> BuyingPowerYear:
    start, end = date(year, 1, 1), period_end or date(year, 12, 31)
    values = [
        Decimal(BUYING_POWER_POINTS) * state["value"] / state["points_price"]
        for state in states
        if state["is_active"]
        and (state["valid_from"] is None or state["valid_from"] <= end)
        and (state["valid_until"] is None or state["valid_until"] >= start)
    ]
    if not values:
        return BuyingPowerYear(year=year, rewards=0, value=None, change=None, is_warning=False)
    value = (sum(values, Decimal(0)) / len(values)).quantize(_CENT)
    # Against the previous year's figure as shown (in cents), so a reader can check it.
    change = (value - previous) / previous if previous else None
    return BuyingPowerYear(
        year=year,
        rewards=len(values),
        value=value,
        change=change.quantize(Decimal("0.0001")) if change is not None else None,
        is_warning=change is not None and change < -BUYING_POWER_WARNING_DROP,
    )
