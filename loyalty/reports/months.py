"""Calendar months as their first day: local months, since entries carry local days."""

from datetime import date, datetime


def month_add(month: date, months: int) -> date:
    """The first day of the month `months` after (or before, if negative) `month`'s."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_range(first: date, last: date) -> list[date]:
    """Every month from `first`'s to `last`'s, both included."""
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [month_add(first.replace(day=1), offset) for offset in range(max(count, 0))]


def as_month(value: date | datetime) -> date:
    """TruncMonth's answer as a date: a DateField gives a date, some backends a datetime."""
    if isinstance(value, datetime):
        return value.date()
    return value
