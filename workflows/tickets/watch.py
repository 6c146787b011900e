"""The SLA watcher (beat, every minute): warnings at 80% and breaches, set-based.

A fixed number of statements whatever the number of tickets, in one transaction:

1. two guarded UPDATEs mark the warnings (first response, resolution) of open tickets
   (new/open: a ticket waiting on the customer has its clock stopped) whose warning moment
   has passed: `... SET response_warned_at = now WHERE response_warned_at IS NULL ... RETURNING
   id`;
2. two guarded UPDATEs mark the breaches, and raise the priority one step (up to urgent) of
   the tickets not escalated before: `escalated_at` is set once per ticket, ever;
3. INSERT ... SELECT ... ON CONFLICT DO NOTHING puts the staff messages in the outbox: a
   warning to the assignee, a breach to each supervisor of the ticket's team; their keys are
   unique per ticket, kind (and supervisor);
4. one INSERT ... SELECT writes a history row for every ticket changed.

The guards make a second run, a run at the same time or a late one change nothing twice: the
second UPDATE finds the mark set (PostgreSQL re-checks the WHERE after waiting for the first
one's row locks), and the messages' keys are unique. The moments compared with now were
computed in business time when the clock started or resumed (workflows/tickets/sla.py).
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from crm.models import TeamMembership
from workflows.models import Message, MessageTemplate, Ticket
from workflows.models.outbox import Channel, OfferKind, Purpose
from workflows.models.tickets import Priority

logger = logging.getLogger(__name__)

WARNING_TEMPLATE = "ticket_sla_warning"
BREACH_TEMPLATE = "ticket_sla_breach"
RESPONSE, RESOLUTION = "response", "resolution"
OPEN = (Ticket.Status.NEW, Ticket.Status.OPEN)


@dataclass
class WatchResult:
    warned: dict[str, list[int]] = field(default_factory=dict)
    breached: dict[str, list[int]] = field(default_factory=dict)
    escalated: list[int] = field(default_factory=list)
    messages: int = 0

    def summary(self) -> dict[str, int]:
        return {
            "response_warned": len(self.warned.get(RESPONSE, [])),
            "resolution_warned": len(self.warned.get(RESOLUTION, [])),
            "response_breached": len(self.breached.get(RESPONSE, [])),
            "resolution_breached": len(self.breached.get(RESOLUTION, [])),
            "escalated": len(self.escalated),
            "messages": self.messages,
        }


def _db(value: datetime | None):
    return connection.ops.adapt_datetimefield_value(value)


def _ids_sql(ids: list[int]) -> tuple[str, list]:
    """A subquery of the given ids as one parameter, whatever their number."""
    if connection.vendor == "postgresql":
        return "SELECT unnest(%s::bigint[])", [list(ids)]
    return "SELECT CAST(value AS INTEGER) FROM json_each(%s)", [json.dumps(list(ids))]


# Per clock: the due column, the warning moment's column, the marks, the extra condition.
_CLOCKS = {
    RESPONSE: (
        "first_response_due_at",
        "response_warn_at",
        "response_warned_at",
        "response_breached_at",
        "first_responded_at IS NULL",
    ),
    RESOLUTION: (
        "resolution_due_at",
        "resolution_warn_at",
        "resolution_warned_at",
        "resolution_breached_at",
        "TRUE",
    ),
}


def _mark_warnings(clock: str, now: datetime) -> list[int]:
    _due, warn_at, warned, breached, condition = _CLOCKS[clock]
    table = Ticket._meta.db_table
    # The conditions repeat the partial index ticket_{clock}_warning's, so it is used.
    sql = f"""
        UPDATE {table} SET {warned} = %s
        WHERE status IN (%s, %s) AND {condition} AND {warned} IS NULL
            AND {warn_at} <= %s AND {breached} IS NULL
        RETURNING id
    """  # noqa: S608 (identifiers from the model, values as parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [_db(now), *OPEN, _db(now)])
        return sorted(row[0] for row in cursor.fetchall())


def _mark_breaches(clock: str, now: datetime) -> tuple[list[int], list[int]]:
    """The breached ids, and those of them whose priority this run raised."""
    due, _warn_at, _warned, breached, condition = _CLOCKS[clock]
    table = Ticket._meta.db_table
    # SET expressions read the row as it was: escalated_at IS NULL is before this UPDATE.
    sql = f"""
        UPDATE {table} SET {breached} = %s,
            priority = CASE WHEN escalated_at IS NULL AND priority < %s THEN priority + 1
                ELSE priority END,
            escalated_at = CASE WHEN escalated_at IS NULL THEN %s ELSE escalated_at END
        WHERE status IN (%s, %s) AND {condition} AND {breached} IS NULL AND {due} <= %s
        RETURNING id, CASE WHEN escalated_at = %s THEN 1 ELSE 0 END
    """  # noqa: S608 (identifiers from the model, values as parameters)
    params = [_db(now), Priority.URGENT, _db(now), *OPEN, _db(now), _db(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted(r[0] for r in rows), sorted(r[0] for r in rows if r[1])


def _templates() -> dict[str, MessageTemplate]:
    """The two templates in the site's language (else the other one): one query; seeded when
    missing, so a fresh database still warns."""
    wanted = (WARNING_TEMPLATE, BREACH_TEMPLATE)

    def find() -> dict[str, MessageTemplate]:
        found: dict[str, MessageTemplate] = {}
        rows = MessageTemplate.objects.filter(
            code__in=wanted, channel=Channel.EMAIL, is_active=True
        ).order_by("code", "language")
        for template in sorted(rows, key=lambda t: t.language != settings.LANGUAGE_CODE):
            found.setdefault(template.code, template)
        return found

    found = find()
    if len(found) < len(wanted):
        from workflows.tickets.seeds import ticket_templates_seed

        ticket_templates_seed()
        found = find()
    return found


_MESSAGE_COLUMNS = """("key", customer_id, channel, purpose, offer_kind, occasion, template_id,
    language, subject, body, recipient, state, refusal, not_before, expires_at, attempts,
    provider_id, error, created_at, staff_recipient_id)"""


def _enqueue_warnings(clock: str, ids: list[int], template: MessageTemplate, now) -> int:
    """One e-mail per warned ticket to its assignee (none without one). Occasion
    `ticket:{id}:{clock}-warning`, key as outbox.enqueue.message_key."""
    ids_sql, ids_params = _ids_sql(ids)
    occasion_tail = f":{clock}-warning"
    sql = f"""
        INSERT INTO {Message._meta.db_table} {_MESSAGE_COLUMNS}
        SELECT %s || CAST(t.customer_id AS TEXT) || ':ticket:' || CAST(t.id AS TEXT) || %s,
            t.customer_id, %s, %s, %s, 'ticket:' || CAST(t.id AS TEXT) || %s, %s,
            %s, '', '', '', %s, '', %s, NULL, 0, '', '', %s, t.assignee_id
        FROM {Ticket._meta.db_table} AS t
        WHERE t.id IN ({ids_sql}) AND t.assignee_id IS NOT NULL
        ON CONFLICT ("key") DO NOTHING
    """  # noqa: S608 (identifiers from the model, values as parameters)
    params = [
        f"{Purpose.STAFF}:",
        f"{occasion_tail}:{Channel.EMAIL}",
        Channel.EMAIL,
        Purpose.STAFF,
        OfferKind.NONE,
        occasion_tail,
        template.pk,
        template.language,
        Message.State.QUEUED,
        _db(now),
        _db(now),
        *ids_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _enqueue_breaches(clock: str, ids: list[int], template: MessageTemplate, now) -> int:
    """One e-mail per breached ticket to each supervisor of its team. Occasion
    `ticket:{id}:{clock}-breach:{supervisor id}`."""
    ids_sql, ids_params = _ids_sql(ids)
    occasion_tail = f":{clock}-breach:"
    sql = f"""
        INSERT INTO {Message._meta.db_table} {_MESSAGE_COLUMNS}
        SELECT %s || CAST(t.customer_id AS TEXT) || ':ticket:' || CAST(t.id AS TEXT) || %s
                || CAST(m.user_id AS TEXT) || %s,
            t.customer_id, %s, %s, %s,
            'ticket:' || CAST(t.id AS TEXT) || %s || CAST(m.user_id AS TEXT), %s,
            %s, '', '', '', %s, '', %s, NULL, 0, '', '', %s, m.user_id
        FROM {Ticket._meta.db_table} AS t
        JOIN {TeamMembership._meta.db_table} AS m ON m.team_id = t.team_id
        WHERE t.id IN ({ids_sql}) AND m.role = %s
        ON CONFLICT ("key") DO NOTHING
    """  # noqa: S608 (identifiers from the model, values as parameters)
    params = [
        f"{Purpose.STAFF}:",
        occasion_tail,
        f":{Channel.EMAIL}",
        Channel.EMAIL,
        Purpose.STAFF,
        OfferKind.NONE,
        occasion_tail,
        template.pk,
        template.language,
        Message.State.QUEUED,
        _db(now),
        _db(now),
        *ids_params,
        TeamMembership.Role.SUPERVISOR,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _history(ids: list[int], now: datetime, reason: str) -> None:
    """A history row (simple_history's table) per changed ticket, as it is now: one INSERT."""
    history = Ticket.history.model
    own = {"history_id", "history_date", "history_change_reason", "history_type"}
    own.add("history_user_id")
    columns = [f.column for f in history._meta.concrete_fields if f.column not in own]
    ids_sql, ids_params = _ids_sql(ids)
    column_list = ", ".join(columns)
    copied = ", ".join(f"t.{column}" for column in columns)
    sql = f"""
        INSERT INTO {history._meta.db_table} ({column_list}, history_date,
            history_change_reason, history_type, history_user_id)
        SELECT {copied}, %s, %s, '~', NULL
        FROM {Ticket._meta.db_table} AS t WHERE t.id IN ({ids_sql})
    """  # noqa: S608 (identifiers from the model, values as parameters)
    with connection.cursor() as cursor:
        cursor.execute(sql, [_db(now), reason, *ids_params])


def tickets_watch(*, now: datetime | None = None) -> WatchResult:
    """Mark the due warnings and breaches, raise the priority at a first breach, and queue the
    staff messages: each once (see the module)."""
    now = now or timezone.now()
    result = WatchResult()
    with transaction.atomic():
        for clock in (RESPONSE, RESOLUTION):
            result.warned[clock] = _mark_warnings(clock, now)
        escalated: set[int] = set()
        for clock in (RESPONSE, RESOLUTION):
            breached, raised = _mark_breaches(clock, now)
            result.breached[clock] = breached
            escalated.update(raised)
        result.escalated = sorted(escalated)
        changed = {i for ids in [*result.warned.values(), *result.breached.values()] for i in ids}
        if not changed:
            return result
        templates = _templates()
        for clock in (RESPONSE, RESOLUTION):
            if result.warned[clock]:
                result.messages += _enqueue_warnings(
                    clock, result.warned[clock], templates[WARNING_TEMPLATE], now
                )
            if result.breached[clock]:
                result.messages += _enqueue_breaches(
                    clock, result.breached[clock], templates[BREACH_TEMPLATE], now
                )
        _history(sorted(changed), now, "SLA watcher")
    if result.escalated:
        logger.info("tickets: %s escalated at an SLA breach", len(result.escalated))
    return result
