"""How long a sensitive event keeps marketing away, per kind: the ONE place it is read.

`settings.WORKFLOWS_SUPPRESSION_DAYS` maps a kind to days; the defaults below apply to the
kinds it leaves out (and when the setting is missing altogether).
"""

from datetime import date, timedelta

from django.conf import settings

DEFAULT_SUPPRESSION_DAYS: dict[str, int] = {
    "bereavement": 90,
    "unemployment": 90,
    "illness": 60,
    "divorce": 60,
    "other": 30,
}


def suppression_days(kind: str) -> int:
    configured = getattr(settings, "WORKFLOWS_SUPPRESSION_DAYS", None) or {}
    default = DEFAULT_SUPPRESSION_DAYS.get(kind, DEFAULT_SUPPRESSION_DAYS["other"])
    return int(configured.get(kind, default))


def default_suppressed_until(kind: str, occurred_on: date) -> date:
    """The last day without marketing: the event's day plus the kind's number of days."""
    return occurred_on + timedelta(days=suppression_days(kind))
