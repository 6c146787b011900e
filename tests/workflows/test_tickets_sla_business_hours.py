"""Business minutes of a calendar: shifts with a lunch break, weekends, China's holidays and
adjusted working days (调休) from the `holidays` library, day overrides."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.models import BusinessCalendar, CalendarDay
from workflows.tickets.business_hours import (
    CalendarSpec,
    add_business_minutes,
    business_minutes_between,
    shifts_parse,
    spec_add,
    spec_between,
)

SH = ZoneInfo("Asia/Shanghai")
LUNCH = [["09:00", "12:00"], ["13:00", "18:00"]]
SPEC = CalendarSpec((("09:00", "12:00"), ("13:00", "18:00")), True, (), "Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def calendar(db):
    return BusinessCalendar.objects.create(name="Service", shifts=LUNCH, is_default=True)


def test_across_a_weekend(calendar):
    friday_evening = at(2026, 6, 12, 17, 0)  # Friday, an hour before closing
    due = add_business_minutes(calendar, friday_evening, 120)
    assert due == at(2026, 6, 15, 10, 0)  # Monday 10:00
    assert due.tzinfo == UTC
    assert business_minutes_between(calendar, friday_evening, due) == 120


def test_across_the_lunch_break(calendar):
    assert add_business_minutes(calendar, at(2026, 6, 10, 11, 30), 30) == at(2026, 6, 10, 12, 0)
    assert add_business_minutes(calendar, at(2026, 6, 10, 11, 30), 31) == at(2026, 6, 10, 13, 1)
    assert business_minutes_between(calendar, at(2026, 6, 10, 11, 0), at(2026, 6, 10, 14, 0)) == 120


def test_starting_outside_hours_counts_from_the_next_shift(calendar):
    assert add_business_minutes(calendar, at(2026, 6, 10, 7, 0), 15) == at(2026, 6, 10, 9, 15)
    assert add_business_minutes(calendar, at(2026, 6, 10, 12, 20), 15) == at(2026, 6, 10, 13, 15)
    assert add_business_minutes(calendar, at(2026, 6, 10, 22, 0), 15) == at(2026, 6, 11, 9, 15)
    assert add_business_minutes(calendar, at(2026, 6, 13, 10, 0), 15) == at(2026, 6, 15, 9, 15)


def test_the_library_knows_2026_national_day_and_its_adjusted_working_days():
    """What the assertions below rely on, from holidays 0.109: 国庆节 2026 is 1-7 October
    (with 中秋节 on 25 September), the days off are made up on Sunday 20 September and
    Saturday 10 October (调休, `weekend_workdays`)."""
    china = holidays.country_holidays("CN", years=2026)
    assert {date(2026, 9, 20), date(2026, 10, 10)} <= china.weekend_workdays
    assert not any(china.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert china.is_working_day(date(2026, 10, 10))  # a Saturday
    assert china.is_working_day(date(2026, 9, 20))  # a Sunday
    assert not china.is_working_day(date(2026, 9, 25))  # 中秋节, a Friday


def test_across_national_day_2026(calendar):
    # Wednesday 30 September 17:00: one hour left, then 1-7 October off, back on Thursday 8th.
    due = add_business_minutes(calendar, at(2026, 9, 30, 17, 0), 120)
    assert due == at(2026, 10, 8, 10, 0)
    assert business_minutes_between(calendar, at(2026, 9, 30, 17, 0), due) == 120
    # Nothing counts during the holiday, whole days or not.
    assert business_minutes_between(calendar, at(2026, 10, 1, 0, 0), at(2026, 10, 8, 0, 0)) == 0


def test_the_adjusted_working_saturday_counts(calendar):
    # Friday 9 October 17:00 + 2 h: Saturday 10 October is a working day (调休).
    assert add_business_minutes(calendar, at(2026, 10, 9, 17, 0), 120) == at(2026, 10, 10, 10, 0)
    assert business_minutes_between(calendar, at(2026, 10, 10, 0, 0), at(2026, 10, 11, 0, 0)) == 480
    # The adjusted working Sunday before it too.
    assert business_minutes_between(calendar, at(2026, 9, 20, 0, 0), at(2026, 9, 21, 0, 0)) == 480


def test_without_china_holidays_national_day_is_worked_and_the_saturday_is_not(calendar):
    calendar.china_holidays = False
    calendar.save()
    assert add_business_minutes(calendar, at(2026, 9, 30, 17, 0), 120) == at(2026, 10, 1, 10, 0)
    assert business_minutes_between(calendar, at(2026, 10, 10, 0, 0), at(2026, 10, 11, 0, 0)) == 0


def test_calendar_day_overrides(calendar):
    # A company day off on Monday 15 June, and Tuesday 16 June only in the morning.
    CalendarDay.objects.create(calendar=calendar, day=date(2026, 6, 15), is_working=False)
    CalendarDay.objects.create(
        calendar=calendar, day=date(2026, 6, 16), is_working=True, shifts=[["09:00", "11:00"]]
    )
    # And Saturday 13 June worked with the calendar's shifts.
    CalendarDay.objects.create(calendar=calendar, day=date(2026, 6, 13), is_working=True)
    friday = at(2026, 6, 12, 17, 0)
    assert business_minutes_between(calendar, friday, at(2026, 6, 17, 9, 0)) == 60 + 480 + 120
    assert add_business_minutes(calendar, friday, 60 + 480 + 60) == at(2026, 6, 16, 10, 0)
    assert add_business_minutes(calendar, friday, 60 + 480 + 121) == at(2026, 6, 17, 9, 1)


def test_a_changed_override_is_seen_at_once(calendar):
    day = CalendarDay.objects.create(calendar=calendar, day=date(2026, 6, 15), is_working=False)
    friday = at(2026, 6, 12, 17, 0)
    assert add_business_minutes(calendar, friday, 120) == at(2026, 6, 16, 10, 0)
    day.is_working = True
    day.save()
    assert add_business_minutes(calendar, friday, 120) == at(2026, 6, 15, 10, 0)


def test_split_shifts_and_a_shift_to_midnight(db):
    calendar = BusinessCalendar.objects.create(
        name="Split", shifts=[["08:00", "10:00"], ["20:00", "24:00"]], china_holidays=False
    )
    assert add_business_minutes(calendar, at(2026, 6, 10, 9, 0), 120) == at(2026, 6, 10, 21, 0)
    assert add_business_minutes(calendar, at(2026, 6, 10, 23, 0), 61) == at(2026, 6, 11, 8, 1)


def test_no_calendar_and_no_default_is_weekdays_nine_to_six_with_china_holidays(db):
    assert add_business_minutes(None, at(2026, 9, 30, 17, 0), 120) == at(2026, 10, 8, 10, 0)
    assert business_minutes_between(None, at(2026, 6, 10, 0, 0), at(2026, 6, 11, 0, 0)) == 540


def test_none_is_the_default_calendar(calendar):
    assert business_minutes_between(None, at(2026, 6, 10, 0, 0), at(2026, 6, 11, 0, 0)) == 480


def test_across_the_new_year(calendar):
    # 1 January 2027 (Friday) is a holiday, then the weekend.
    assert add_business_minutes(calendar, at(2026, 12, 31, 17, 0), 120) == at(2027, 1, 4, 10, 0)


@pytest.mark.parametrize(
    "shifts",
    [
        [["09:00"]],
        [["18:00", "09:00"]],
        [["09:00", "12:00"], ["11:00", "13:00"]],
        "x",
        [["9h", "x"]],
    ],
)
def test_bad_shifts_are_refused(shifts):
    with pytest.raises(ValidationError):
        shifts_parse(shifts)


def test_a_calendar_without_working_time_is_a_clear_error(db):
    calendar = BusinessCalendar.objects.create(name="Empty", shifts=[])
    with pytest.raises(ValidationError) as error:
        add_business_minutes(calendar, at(2026, 6, 10, 9, 0), 1)
    assert error.value.code == "no_working_time"


# Hypothesis takes naive bounds and attaches the time zone itself.
moments = st.datetimes(
    min_value=datetime(2025, 12, 1),  # noqa: DTZ001
    max_value=datetime(2027, 2, 1),  # noqa: DTZ001
    timezones=st.just(SH),
)


@settings(max_examples=300, deadline=None)
@given(start=moments, minutes=st.integers(min_value=0, max_value=60 * 24 * 30))
def test_adding_then_counting_gives_the_minutes_back(start, minutes):
    due = spec_add(SPEC, start, minutes)
    assert due >= start
    assert spec_between(SPEC, start, due) == minutes * 60_000_000


@settings(max_examples=200, deadline=None)
@given(start=moments, hours=st.integers(min_value=0, max_value=24 * 40))
def test_counting_then_adding_reaches_no_later_than_the_end(start, hours):
    end = start + timedelta(hours=hours)
    counted = spec_between(SPEC, start, end)
    assert spec_add(SPEC, start, counted / 60_000_000) <= end
