"""How long a sensitive event keeps marketing away, per kind: the ONE place it is read.

`settings.WORKFLOWS_SUPPRESSION_DAYS` maps a kind to days; a kind it leaves out gets "other"'s.
"""

from datetime import date, timedelta

from django.conf import settings


def suppression_days(kind: str) -> int:
    configured = settings.WORKFLOWS_SUPPRESSION_DAYS
    return int(configured.get(kind, configured["other"]))


def default_suppressed_until(kind: str, occurred_on: date) -> date:
    """The last day without marketing: the event's day plus the kind's number of days."""
    return occurred_on + timedelta(days=suppression_days(kind))
