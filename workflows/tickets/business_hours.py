"""Business minutes: working time of a BusinessCalendar, counted and added without loops over
minutes.

A calendar's working time in one local year (TIME_ZONE) is a sorted list of intervals, in UTC
microseconds, with the running total of business time before each one. It is built once per
process and year from the calendar's content (shifts, China's holidays on or off, its
CalendarDay overrides) and cached under that content, so a changed day is a new key and never a
stale answer. Adding or counting is then two binary searches per year crossed.

A day's shifts: a CalendarDay override if there is one (off, or working with its own shifts or
the calendar's); else, with `china_holidays`, the `holidays` library's working days (public
holidays off, 调休 weekend working days on: `is_working_day()` and `weekend_workdays`); else
Monday to Friday. Shifts are local "HH:MM" pairs within one day ("24:00" ends at midnight);
a lunch break or a split shift is simply two shifts.

The `holidays` data for a year exists once the State Council publishes it (each November or
December); for later years the library falls back to rule-based holidays without 调休
(shared/LIBRARIES.md, pitfall 12): upgrade the library every year.
"""

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from workflows.models import BusinessCalendar, CalendarDay

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
MINUTE = 60_000_000  # microseconds
# Used when no calendar is given and none is the default: Mon-Fri 09:00-18:00, China's days.
FALLBACK_SHIFTS: tuple[tuple[str, str], ...] = (("09:00", "18:00"),)
# A calendar without any working time would never reach a deadline.
MAX_YEARS = 10

Shifts = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CalendarSpec:
    """What decides a calendar's working time: hashable, the cache's key."""

    shifts: Shifts
    china_holidays: bool
    days: tuple[tuple[date, bool, Shifts], ...] = ()
    time_zone: str = ""


@dataclass(frozen=True)
class YearTimeline:
    starts: tuple[int, ...]  # interval starts, UTC microseconds since the epoch
    ends: tuple[int, ...]
    before: tuple[int, ...]  # business microseconds of the year before each interval
    year_start: int
    year_end: int

    @property
    def total(self) -> int:
        return self.before[-1] + self.ends[-1] - self.starts[-1] if self.starts else 0

    def position(self, moment: int) -> int:
        """Business microseconds of the year before `moment`."""
        i = bisect_right(self.starts, moment) - 1
        if i < 0:
            return 0
        return self.before[i] + min(moment, self.ends[i]) - self.starts[i]

    def moment(self, position: int) -> int:
        """The earliest moment with `position` business microseconds before it (0 < position
        <= total): inside an interval, or at its end."""
        i = bisect_left(self.before, position) - 1
        return self.starts[i] + position - self.before[i]


def _parse_time(value: str) -> time | None:
    """ "HH:MM" -> time; "24:00" -> None (midnight at the end of the day)."""
    hours_s, minutes_s = str(value).strip().split(":")
    hours, minutes = int(hours_s), int(minutes_s)
    if (hours, minutes) == (24, 0):
        return None
    return time(hours, minutes)


def shifts_parse(value) -> Shifts:
    """Validate shifts as stored in the JSON field: [["09:00", "12:00"], ...], each ending after
    it starts, within one day, not overlapping. Raises ValidationError."""
    error = ValidationError(
        _('Shifts must be a list of ["HH:MM", "HH:MM"] pairs within one day, e.g. %(example)s.')
        % {"example": '[["09:00", "12:00"], ["13:00", "18:00"]]'},
        code="invalid_shifts",
    )
    if not isinstance(value, list | tuple):
        raise error
    shifts = []
    for pair in value:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise error
        try:
            start, end = _parse_time(pair[0]), _parse_time(pair[1])
        except (ValueError, AttributeError, TypeError):
            raise error from None
        if start is None or (end is not None and end <= start):
            raise error
        shifts.append((start, end or time.max, (str(pair[0]).strip(), str(pair[1]).strip())))
    shifts.sort()
    for previous, following in zip(shifts, shifts[1:], strict=False):
        if following[0] < previous[1]:
            raise ValidationError(_("Shifts must not overlap."), code="overlapping_shifts")
    return tuple(text for _start, _end, text in shifts)


def calendar_spec(calendar: BusinessCalendar | None) -> CalendarSpec:
    """The calendar's content (one query for its days); None: the default calendar, else
    FALLBACK_SHIFTS with China's holidays."""
    if calendar is None:
        calendar = BusinessCalendar.objects.filter(is_default=True).first()
    time_zone = settings.TIME_ZONE
    if calendar is None:
        return CalendarSpec(FALLBACK_SHIFTS, True, (), time_zone)
    days = tuple(
        (day, is_working, shifts_parse(shifts) if shifts else ())
        for day, is_working, shifts in CalendarDay.objects.filter(calendar=calendar)
        .order_by("day")
        .values_list("day", "is_working", "shifts")
    )
    return CalendarSpec(shifts_parse(calendar.shifts), calendar.china_holidays, days, time_zone)


@lru_cache(maxsize=32)
def _china(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=year)


def is_working_day(spec: CalendarSpec, day: date) -> bool:
    """Without an override: China's working days (holidays off, 调休 weekend days on), or
    Monday to Friday."""
    if spec.china_holidays:
        return _china(day.year).is_working_day(day)
    return day.weekday() < 5


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


def _datetime(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _local(day: date, value: str, zone: ZoneInfo) -> int:
    clock = _parse_time(value)
    if clock is None:
        return _micros(datetime.combine(day + timedelta(days=1), time(), tzinfo=zone))
    return _micros(datetime.combine(day, clock, tzinfo=zone))


@lru_cache(maxsize=256)
def year_timeline(spec: CalendarSpec, year: int) -> YearTimeline:
    """The working intervals of one local year (cached per process under the spec)."""
    zone = ZoneInfo(spec.time_zone or settings.TIME_ZONE)
    overrides = {day: (is_working, shifts) for day, is_working, shifts in spec.days}
    starts: list[int] = []
    ends: list[int] = []
    before: list[int] = []
    total = 0
    day = date(year, 1, 1)
    while day.year == year:
        if day in overrides:
            is_working, shifts = overrides[day]
            shifts = shifts or spec.shifts
        else:
            is_working, shifts = is_working_day(spec, day), spec.shifts
        if is_working:
            for start_s, end_s in shifts:
                start, end = _local(day, start_s, zone), _local(day, end_s, zone)
                if end > start:
                    starts.append(start)
                    ends.append(end)
                    before.append(total)
                    total += end - start
        day += timedelta(days=1)
    return YearTimeline(
        starts=tuple(starts),
        ends=tuple(ends),
        before=tuple(before),
        year_start=_micros(datetime(year, 1, 1, tzinfo=zone)),
        year_end=_micros(datetime(year + 1, 1, 1, tzinfo=zone)),
    )


def _year_of(micros: int, zone: str) -> int:
    return _datetime(micros).astimezone(ZoneInfo(zone or settings.TIME_ZONE)).year


def spec_add(spec: CalendarSpec, start: datetime, minutes: float) -> datetime:
    """`calendar`-free core of add_business_minutes (see there)."""
    remaining = round(minutes * MINUTE)
    moment = _micros(start)
    if remaining <= 0:
        return start.astimezone(UTC)
    year = _year_of(moment, spec.time_zone)
    for _attempt in range(MAX_YEARS * 2):
        timeline = year_timeline(spec, year)
        moment = max(moment, timeline.year_start)
        left_in_year = timeline.total - timeline.position(moment)
        if remaining <= left_in_year:
            return _datetime(timeline.moment(timeline.position(moment) + remaining))
        remaining -= left_in_year
        year += 1
    raise ValidationError(
        _("The business calendar has no working time in the next %(years)s years.")
        % {"years": MAX_YEARS},
        code="no_working_time",
    )


def spec_between(spec: CalendarSpec, start: datetime, end: datetime) -> int:
    """Business microseconds in [start, end)."""
    begin, finish = _micros(start), _micros(end)
    if finish <= begin:
        return 0
    total = 0
    for year in range(_year_of(begin, spec.time_zone), _year_of(finish, spec.time_zone) + 1):
        timeline = year_timeline(spec, year)
        low = max(begin, timeline.year_start)
        high = min(finish, timeline.year_end)
        if high > low:
            total += timeline.position(high) - timeline.position(low)
    return total


def add_business_minutes(
    calendar: BusinessCalendar | None, start: datetime, minutes: float
) -> datetime:
    """The moment `minutes` business minutes after `start` (aware; returned in UTC). Ending
    exactly at a shift's end gives that end (12:00 before a lunch break, not 13:00); 0 minutes
    gives `start`."""
    return spec_add(calendar_spec(calendar), start, minutes)


def business_minutes_between(
    calendar: BusinessCalendar | None, start: datetime, end: datetime
) -> int:
    """Whole business minutes in [start, end); 0 when end is not after start."""
    return spec_between(calendar_spec(calendar), start, end) // MINUTE
