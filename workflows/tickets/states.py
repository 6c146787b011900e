"""The ticket's status as a state machine, written as data:

    new -> open | waiting | resolved
    open -> waiting | resolved
    waiting -> open | resolved
    resolved -> closed | open (reopened, within WORKFLOWS_TICKET_REOPEN_DAYS of resolved_at)
    closed: final

`transition_check` is the one place that says whether a change is allowed; services, admin
actions and the API all call it and show its message.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from workflows.models import Ticket

Status = Ticket.Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.OPEN, Status.WAITING, Status.RESOLVED}),
    Status.OPEN: frozenset({Status.WAITING, Status.RESOLVED}),
    Status.WAITING: frozenset({Status.OPEN, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.OPEN}),
    Status.CLOSED: frozenset(),
}


class InvalidTransition(ValidationError):
    """A status change the state machine does not allow; the message names both statuses."""


def _label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def reopen_days() -> int:
    return settings.WORKFLOWS_TICKET_REOPEN_DAYS


def is_reopen(from_status: str, to_status: str) -> bool:
    return from_status == Status.RESOLVED and to_status == Status.OPEN


def transition_check(
    *, from_status: str, to_status: str, resolved_at: datetime | None, now: datetime
) -> None:
    """Raise InvalidTransition unless a ticket may go from `from_status` to `to_status` now."""
    if to_status not in Status.values:
        raise InvalidTransition(
            _("“%(status)s” is not a ticket status.") % {"status": to_status},
            code="unknown_status",
        )
    names = {"from": _label(from_status), "to": _label(to_status)}
    if from_status == to_status:
        raise InvalidTransition(_("The ticket is already “%(from)s”.") % names, code="same_status")
    if to_status not in TRANSITIONS.get(from_status, frozenset()):
        if from_status == Status.CLOSED:
            message = _(
                "A closed ticket cannot change any more: it cannot go from “%(from)s” to "
                "“%(to)s”. Open a new ticket instead."
            )
        else:
            message = _("A ticket cannot go from “%(from)s” to “%(to)s”.")
        raise InvalidTransition(message % names, code="invalid_transition")
    if is_reopen(from_status, to_status):
        days = reopen_days()
        if resolved_at is None or now - resolved_at > timedelta(days=days):
            raise InvalidTransition(
                _(
                    "A ticket cannot go from “%(from)s” to “%(to)s” more than %(days)s days "
                    "after it was resolved. Open a new ticket instead."
                )
                % {**names, "days": days},
                code="reopen_window_over",
            )


def allowed_next(ticket: Ticket, *, now: datetime) -> list[str]:
    """The statuses this ticket may move to now (for forms and bulk actions)."""
    allowed = []
    for status in TRANSITIONS.get(ticket.status, frozenset()):
        try:
            transition_check(
                from_status=ticket.status, to_status=status, resolved_at=ticket.resolved_at, now=now
            )
        except InvalidTransition:
            continue
        allowed.append(status)
    return [status for status in Status.values if status in allowed]
