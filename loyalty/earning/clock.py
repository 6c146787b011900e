"""Local time in SQL without time zone functions, the same on PostgreSQL and SQLite.

A timestamp becomes "local seconds since 1970-01-01 00:00 local": its UTC epoch seconds plus
the offset of `settings.TIME_ZONE` at that instant. The offsets come from the zone database
(computed once here), as a CASE over the instants where the offset changes, so a zone with
daylight saving time works too; for Asia/Shanghai the CASE has a handful of branches before
1992 and one offset since. From local seconds, integer arithmetic gives the local day number,
weekday and time of day on both databases alike.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

EPOCH_DAY = date(1970, 1, 1)  # a Thursday
SECONDS_PER_DAY = 86400
_SCAN_FROM, _SCAN_TO = datetime(1970, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)


def day_number(day: date) -> int:
    return (day - EPOCH_DAY).days


def day_of(number: int) -> date:
    return EPOCH_DAY + timedelta(days=number)


def seconds_of(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _offset(zone: ZoneInfo, instant: datetime) -> int:
    offset = instant.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@cache
def offset_changes(zone_name: str) -> tuple[int, tuple[tuple[int, int], ...]]:
    """(the offset before the first change, ((epoch second of a change, offset from it), ...)).

    Scans day by day and narrows each change to the second: about 47,000 look-ups, once.
    """
    zone = ZoneInfo(zone_name)
    first = _offset(zone, _SCAN_FROM)
    changes: list[tuple[int, int]] = []
    current, instant = first, _SCAN_FROM
    while instant < _SCAN_TO:
        following = instant + timedelta(days=1)
        offset = _offset(zone, following)
        if offset != current:
            low, high = int(instant.timestamp()), int(following.timestamp())
            while high - low > 1:  # the first second with the new offset
                middle = (low + high) // 2
                if _offset(zone, datetime.fromtimestamp(middle, UTC)) == current:
                    low = middle
                else:
                    high = middle
            changes.append((high, offset))
            current = offset
        instant = following
    return first, tuple(changes)


def epoch_sql(column: str) -> str:
    """A timestamp column as whole UTC seconds since 1970 (SQLite stores naive UTC text)."""
    if connection.vendor == "postgresql":
        return f"CAST(FLOOR(EXTRACT(EPOCH FROM {column})) AS BIGINT)"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def local_seconds_sql(column: str) -> str:
    """The column's local time as seconds since 1970-01-01 00:00 local time (an integer)."""
    epoch = epoch_sql(column)
    first, changes = offset_changes(str(settings.TIME_ZONE))
    if not changes:
        return f"({epoch} + {first})"
    # Newest change first: recent timestamps leave the CASE at its first branch.
    branches = " ".join(
        f"WHEN {epoch} >= {int(start)} THEN {int(offset)}" for start, offset in reversed(changes)
    )
    return f"({epoch} + CASE {branches} ELSE {int(first)} END)"


def local_day_number(moment: datetime) -> int:
    """What `local_seconds_sql(...) / 86400` gives for `moment`, computed in Python."""
    return day_number(moment.astimezone(ZoneInfo(str(settings.TIME_ZONE))).date())
