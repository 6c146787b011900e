"""Every write of a ticket: opening (routed, timed, assigned), assignment to the least-loaded
agent and the offer of an idle ticket to the next one, status changes through the state
machine (workflows/tickets/states.py), notes, replies and attachments, and what resolving
sets off (the satisfaction survey, the `ticket.resolved` webhook event, care sequences).

Each change is one transaction and a history row (simple-history, with the reason and the
user); what the customer would care about (opened, resolved, reopened, closed) also goes on
their timeline as an Interaction of kind "ticket". crm's "ticket opened" exit rule of care
sequences reads those interactions.

Load of an agent: the sum of PRIORITY_WEIGHTS over their open tickets (new, open, waiting):
low 1, normal 2, high 3, urgent 5 (an urgent ticket weighs more than two normal ones). The
least-loaded available agent (not away, active) of the ticket's department takes it; ties go
to the one with fewest open tickets, then the lowest user id.
"""

import logging
import zlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, IntegerField, OuterRef, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from crm.models import Customer, Interaction, TeamMembership
from crm.services.interactions import interaction_record
from workflows.feedback.invitations import invitation_send
from workflows.models import (
    AgentProfile,
    FeedbackForm,
    FeedbackResponse,
    Ticket,
    TicketAttachment,
    TicketNote,
)
from workflows.models.feedback import ServiceStep
from workflows.models.outbox import Channel
from workflows.models.sequences import TriggerKind
from workflows.models.tickets import Priority, TicketCategory, TicketChannel
from workflows.models.webhooks import EventType
from workflows.sequences.receivers import active_triggers
from workflows.sequences.triggers import sequences_enrol
from workflows.tickets import sla
from workflows.tickets.attachments import attachment_check
from workflows.tickets.routing import ticket_route
from workflows.tickets.states import InvalidTransition, is_reopen, transition_check
from workflows.webhooks.emit import webhook_event_emit

logger = logging.getLogger(__name__)

Status = Ticket.Status
PRIORITY_WEIGHTS: dict[int, int] = {
    Priority.LOW: 1,
    Priority.NORMAL: 2,
    Priority.HIGH: 3,
    Priority.URGENT: 5,
}
SURVEY_TEMPLATE = "feedback_invitation"
IDLE_BATCH = 500
SUBJECT_MAX = 200
IDLE_MAX_BATCHES = 10
# Statuses of a ticket still being worked on, which count in an agent's load.
OPEN_STATUSES = [Status.NEW, Status.OPEN, Status.WAITING]


# Timeline entries for the changes a customer would care about.
def _user_label(user) -> str:
    if user is None:
        return "-"
    return user.get_full_name() or user.get_username()


def _save(ticket: Ticket, *, fields: Iterable[str], by, reason: str) -> None:
    """Save the fields with a history row saying who and why."""
    ticket._history_user = by  # type: ignore[attr-defined]
    ticket._change_reason = reason[:100]  # type: ignore[attr-defined]
    ticket.save(update_fields=list(fields))


def _timeline(ticket: Ticket, *, summary: str, by, now: datetime) -> None:
    interaction_record(
        customer_id=ticket.customer_id,
        kind=Interaction.Kind.TICKET,
        occurred_at=now,
        summary=summary,
        staff=by,
    )


# --- Assignment -------------------------------------------------------------------------------


def _department_lock(department: str) -> None:
    """Serialise assignments within a department until the transaction ends, so two tickets
    opened at once see each other's load. PostgreSQL: a transaction-level advisory lock keyed
    by the department; SQLite opens its transactions IMMEDIATE, which serialises writers."""
    if connection.vendor == "postgresql":
        key = zlib.crc32(f"ticket-assign:{department}".encode())
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _weight() -> Case:
    whens = [When(priority=priority, then=Value(w)) for priority, w in PRIORITY_WEIGHTS.items()]
    return Case(
        *whens, default=Value(PRIORITY_WEIGHTS[Priority.NORMAL]), output_field=IntegerField()
    )


def agents_by_load(*, department: str, exclude_user_ids: Iterable[int] = ()):
    """Available agents of the department, least loaded first (see the module's docstring):
    one query, each agent's load read from the (assignee, status) index."""
    open_tickets = (
        Ticket.objects.filter(assignee_id=OuterRef("user_id"), status__in=OPEN_STATUSES)
        .order_by()
        .values("assignee_id")
    )
    return (
        AgentProfile.objects.filter(department=department, is_away=False, user__is_active=True)
        .exclude(user_id__in=list(exclude_user_ids))
        .annotate(
            load=Coalesce(Subquery(open_tickets.annotate(w=Sum(_weight())).values("w")), 0),
            open_count=Coalesce(Subquery(open_tickets.annotate(n=Count("id")).values("n")), 0),
        )
        .order_by("load", "open_count", "user_id")
        .select_related("user")
    )


def ticket_assign_least_loaded(
    ticket: Ticket, *, exclude_user_ids: Iterable[int] = (), by=None, reason: str = ""
):
    """Give the ticket to the least-loaded available agent of its department (not one of
    `exclude_user_ids`); the agent, or None when nobody is available (the ticket stays as it
    is: unassigned on opening, visible in the team's list). Sets assigned_at and clears
    agent_acted_at (the idle clock starts)."""
    with transaction.atomic():
        _department_lock(ticket.department)
        agent = agents_by_load(
            department=ticket.department, exclude_user_ids=exclude_user_ids
        ).first()
        if agent is None:
            return None
        now = timezone.now()
        ticket.assignee, ticket.assigned_at, ticket.agent_acted_at = agent.user, now, None
        _save(
            ticket,
            fields=["assignee", "assigned_at", "agent_acted_at"],
            by=by,
            reason=reason or f"assigned to {agent.user.get_username()} (least loaded)",
        )
        return agent.user


@transaction.atomic
def ticket_assign_to(*, ticket: Ticket, assignee, by) -> Ticket:
    """Give an open ticket to a named (active) user; the idle clock starts again."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.status not in OPEN_STATUSES:
        raise ValidationError(
            _("Only a ticket still being worked on can be assigned (this one is “%(status)s”).")
            % {"status": locked.get_status_display()},
            code="not_open",
        )
    if assignee is None or not assignee.is_active:
        raise ValidationError(_("Choose an active user to assign the ticket to."), code="inactive")
    now = timezone.now()
    locked.assignee, locked.assigned_at = assignee, now
    # Taking a ticket oneself is acting on it.
    locked.agent_acted_at = now if by is not None and by.pk == assignee.pk else None
    _save(
        locked,
        fields=["assignee", "assigned_at", "agent_acted_at"],
        by=by,
        reason=f"assigned to {assignee.get_username()}",
    )
    return locked


def _idle_candidates(*, now: datetime, minutes: int):
    """Tickets new or open whose assignee has not acted since a wall-clock `minutes` ago (a
    business minute is never shorter than a wall-clock one), oldest assignment first, in
    keyset batches over the partial index ticket_idle_assignment."""
    base = (
        Ticket.objects.filter(
            status__in=[Status.NEW, Status.OPEN],
            agent_acted_at__isnull=True,
            assignee__isnull=False,
            assigned_at__lte=now - timedelta(minutes=minutes),
        )
        .select_related("calendar", "assignee")
        .order_by("assigned_at", "id")
    )
    after = None
    for _batch in range(IDLE_MAX_BATCHES):
        rows = base
        if after is not None:
            rows = rows.filter(assigned_at__gte=after[0]).exclude(
                assigned_at=after[0], id__lte=after[1]
            )
        batch = list(rows[:IDLE_BATCH])
        yield from batch
        if len(batch) < IDLE_BATCH:
            return
        after = (batch[-1].assigned_at, batch[-1].pk)


def _ticket_offer(*, ticket: Ticket, minutes: int, now: datetime) -> bool:
    """Offer one idle ticket to the next least-loaded agent: True if it moved."""
    with transaction.atomic():
        # The guard: the same assignment, still idle (an agent acting meanwhile keeps it).
        locked = (
            Ticket.objects.select_for_update()
            .filter(
                pk=ticket.pk,
                assignee_id=ticket.assignee_id,
                assigned_at=ticket.assigned_at,
                agent_acted_at__isnull=True,
                status__in=[Status.NEW, Status.OPEN],
            )
            .first()
        )
        if locked is None:
            return False
        previous = ticket.assignee
        assert previous is not None  # noqa: S101 (the candidates have an assignee)
        agent = ticket_assign_least_loaded(
            locked,
            exclude_user_ids=[previous.pk],
            reason=f"offered on: no action by {previous.get_username()} within {minutes} min",
        )
        if agent is None:
            # Nobody else is available: the assignee keeps it for another idle period.
            locked.assigned_at = now
            _save(
                locked,
                fields=["assigned_at"],
                by=None,
                reason="idle, no other agent available",
            )
            return False
        TicketNote.objects.create(
            ticket=locked,
            kind=TicketNote.Kind.INTERNAL,
            body=_(
                "Offered to %(agent)s: no action by %(previous)s within %(minutes)s business "
                "minutes."
            )
            % {
                "agent": _user_label(agent),
                "previous": _user_label(previous),
                "minutes": minutes,
            },
            created_at=now,
        )
        return True


def tickets_offer_idle(*, now: datetime | None = None) -> int:
    """Offer each ticket whose assignee has not acted within
    WORKFLOWS_TICKET_IDLE_BUSINESS_MINUTES business minutes (the ticket's calendar) of the
    assignment to the next least-loaded agent of its department. Returns how many moved. Once
    per idle period: the new assignment starts a new one, and a second run finds nothing."""
    now = now or timezone.now()
    minutes = settings.WORKFLOWS_TICKET_IDLE_BUSINESS_MINUTES
    offered = 0
    for ticket in _idle_candidates(now=now, minutes=minutes):
        if sla.business_minutes_between(ticket.calendar, ticket.assigned_at, now) < minutes:
            continue
        offered += _ticket_offer(ticket=ticket, minutes=minutes, now=now)
    if offered:
        logger.info("Idle tickets offered to another agent: %s", offered)
    return offered


# --- Opening ----------------------------------------------------------------------------------


def _ticket_fields_check(*, category: str, channel: str, priority: int, subject: str) -> None:
    errors = {}
    if category not in TicketCategory.values:
        errors["category"] = ValidationError(_("Choose a valid category."), code="invalid")
    if channel not in TicketChannel.values:
        errors["channel"] = ValidationError(_("Choose a valid channel."), code="invalid")
    if priority not in Priority.values:
        errors["priority"] = ValidationError(_("Choose a valid priority."), code="invalid")
    if not subject.strip():
        errors["subject"] = ValidationError(_("A ticket needs a subject."), code="required")
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = ValidationError(
            _("Please keep the subject under 200 characters."), code="too_long"
        )
    if errors:
        raise ValidationError(errors)


def _ticket_open(
    *,
    customer: Customer,
    category: str,
    subject: str,
    description: str,
    channel: str,
    priority: int,
    external_id: str,
    created_by,
    parent: Ticket | None = None,
    assignee=None,
) -> Ticket:
    now = timezone.now()
    ticket = Ticket(
        customer=customer,
        team_id=customer.team_id,
        department=ticket_route(category=category, subject=subject, description=description),
        category=category,
        priority=priority,
        channel=channel,
        subject=subject.strip(),
        description=description,
        external_id=external_id,
        parent=parent,
        created_at=now,
        created_by=created_by,
    )
    sla.ticket_sla_start(ticket, now=now)
    ticket._history_user = created_by  # type: ignore[attr-defined]
    ticket._change_reason = "opened"  # type: ignore[attr-defined]
    ticket.save()
    if assignee is not None:
        ticket.assignee, ticket.assigned_at = assignee, now
        _save(
            ticket,
            fields=["assignee", "assigned_at"],
            by=created_by,
            reason=f"assigned to {assignee.get_username()}",
        )
    else:
        ticket_assign_least_loaded(ticket, by=created_by)
    # Also what makes care sequences with "exit when a ticket is opened" stop for the customer
    # (workflows/sequences/advance.py reads ticket interactions since enrolment).
    _timeline(ticket, summary=f"#{ticket.pk} {ticket.subject}", by=created_by, now=now)
    return ticket


def ticket_create(
    *,
    customer: Customer,
    category: str,
    subject: str,
    description: str = "",
    channel: str,
    priority: int = Priority.NORMAL,
    external_id: str = "",
    created_by=None,
) -> tuple[Ticket, bool]:
    """Open a ticket: routed to a department (workflows/tickets/routing.py), in the
    customer's team, its SLA clock started, given to the least-loaded available agent, on
    the customer's timeline; all in one transaction. Returns (ticket, created).

    Idempotent on `external_id` (unique when not empty): a second call with the same id
    returns the first ticket and created=False, even if the rest differs (the first call
    wins; the caller sees what was stored). Invalid fields raise ValidationError.
    """
    external_id = (external_id or "").strip()
    _ticket_fields_check(category=category, channel=channel, priority=priority, subject=subject)
    if external_id:
        existing = Ticket.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            ticket = _ticket_open(
                customer=customer,
                category=category,
                subject=subject,
                description=description,
                channel=channel,
                priority=priority,
                external_id=external_id,
                created_by=created_by,
            )
    except IntegrityError:
        # The same external id committed by a concurrent call since the check above.
        existing = Ticket.objects.filter(external_id=external_id).first() if external_id else None
        if existing is None:
            raise
        return existing, False
    return ticket, True


# --- Status -----------------------------------------------------------------------------------


def _survey_channel(ticket: Ticket) -> str:
    """E-mail for a ticket that came by e-mail (to a customer with an address), else SMS."""
    if ticket.channel == TicketChannel.EMAIL and ticket.customer.email:
        return Channel.EMAIL
    return Channel.SMS


def _survey_send(ticket: Ticket):
    """The "after a ticket" form's personal link through the outbox, once per ticket; None
    when there is no such form (or it cannot be sent: logged, the resolution goes on)."""
    if ticket.survey_invitation_id is not None:
        return ticket.survey_invitation
    form = (
        FeedbackForm.objects.filter(
            is_active=True, current_version__isnull=False, service_step=ServiceStep.TICKET
        )
        .order_by("id")
        .first()
    )
    if form is None:
        return None
    try:
        with transaction.atomic():
            return invitation_send(
                form=form,
                customer=ticket.customer,
                occasion=f"ticket:{ticket.pk}",
                channel=_survey_channel(ticket),
                template_code=SURVEY_TEMPLATE,
            )
    except ValidationError as error:
        logger.warning("Ticket %s: survey not sent (%s)", ticket.pk, "; ".join(error.messages))
        return None


def _resolved_payload(ticket: Ticket) -> dict:
    return {
        "ticket_id": ticket.pk,
        "customer_id": ticket.customer_id,
        "external_id": ticket.external_id,
        "department": ticket.department,
        "category": ticket.category,
        "priority": ticket.priority,
        "channel": ticket.channel,
        "reopened_count": ticket.reopened_count,
        "created_at": ticket.created_at.isoformat(),
        "resolved_at": ticket.resolved_at.isoformat() if ticket.resolved_at else None,
        "survey_invitation_id": ticket.survey_invitation_id,
    }


def ticket_transition(*, ticket: Ticket, to_status: str, by, note: str = "") -> Ticket:
    """Move the ticket to `to_status` if the state machine allows it now (InvalidTransition
    otherwise, naming both statuses). The row is locked first, so of two concurrent changes
    the second is checked against the first's result. Waiting on the customer pauses the SLA
    clock, leaving it resumes it. Resolving sends the survey (once per ticket), emits
    `ticket.resolved` and enrols the customer in care sequences triggered by it (once per
    ticket). An optional note is kept as an internal note."""
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().select_related("customer").get(pk=ticket.pk)
        now = timezone.now()
        from_status = locked.status
        transition_check(
            from_status=from_status, to_status=to_status, resolved_at=locked.resolved_at, now=now
        )
        fields = {"status"}
        if from_status == Status.WAITING:
            sla.ticket_sla_resume(locked, now=now)
            fields |= {"waiting_since", "first_response_due_at", "resolution_due_at"}
        if to_status == Status.WAITING:
            sla.ticket_sla_pause(locked, now=now)
            fields |= {"waiting_since", "first_response_due_at", "resolution_due_at"}
        reopened = is_reopen(from_status, to_status)
        if reopened:
            locked.reopened_count += 1
            locked.resolved_at = locked.resolution_business_minutes = None
            fields |= {"reopened_count", "resolved_at", "resolution_business_minutes"}
        if to_status == Status.RESOLVED:
            locked.resolved_at = now
            locked.resolution_business_minutes = sla.business_minutes_since_opened(locked, now)
            fields |= {"resolved_at", "resolution_business_minutes"}
        if to_status == Status.CLOSED:
            locked.closed_at = now
            fields.add("closed_at")
        if by is not None:
            locked.agent_acted_at = now
            fields.add("agent_acted_at")
        locked.status = to_status
        if to_status == Status.RESOLVED and locked.survey_invitation_id is None:
            invitation = _survey_send(locked)
            if invitation is not None:
                locked.survey_invitation = invitation
                fields.add("survey_invitation")
        _save(locked, fields=fields, by=by, reason=f"status: {from_status} → {to_status}")
        if note.strip():
            TicketNote.objects.create(
                ticket=locked, kind=TicketNote.Kind.INTERNAL, body=note.strip(), author=by
            )
        label = "reopened" if reopened else to_status
        _timeline(locked, summary=f"#{locked.pk} {label}: {locked.subject}", by=by, now=now)
        if to_status == Status.RESOLVED:
            webhook_event_emit(
                event_type=EventType.TICKET_RESOLVED, payloads=[_resolved_payload(locked)]
            )
            if TriggerKind.TICKET_RESOLVED in active_triggers():
                sequences_enrol(triggers=[TriggerKind.TICKET_RESOLVED], ids=[locked.pk], now=now)
    return locked


# --- Notes and attachments --------------------------------------------------------------------


@transaction.atomic
def ticket_note_add(*, ticket: Ticket, kind: str, body: str, author) -> TicketNote:
    """An internal note or a public reply. Either is the agent acting (the idle clock stops);
    the first public reply is the first response of the SLA."""
    body = (body or "").strip()
    if kind not in TicketNote.Kind.values:
        raise ValidationError(_("Choose an internal note or a public reply."), code="invalid_kind")
    if not body:
        raise ValidationError({"body": _("Write something first.")}, code="required")
    status = Ticket.objects.filter(pk=ticket.pk).values_list("status", flat=True).first()
    if kind == TicketNote.Kind.REPLY and status == Status.CLOSED:
        raise ValidationError(
            _("A closed ticket takes no more replies: open a new ticket instead."), code="closed"
        )
    now = timezone.now()
    note = TicketNote.objects.create(
        ticket=ticket, kind=kind, body=body, author=author, created_at=now
    )
    Ticket.objects.filter(pk=ticket.pk).update(agent_acted_at=now)
    ticket.agent_acted_at = now
    # Guarded: of two first replies at once, the earlier one's time stays.
    if kind == TicketNote.Kind.REPLY and ticket.first_responded_at is None:
        minutes = sla.business_minutes_since_opened(ticket, now)
        if Ticket.objects.filter(pk=ticket.pk, first_responded_at__isnull=True).update(
            first_responded_at=now, first_response_business_minutes=minutes
        ):
            ticket.first_responded_at = now
            ticket.first_response_business_minutes = minutes
    return note


@transaction.atomic
def ticket_attachment_add(*, ticket: Ticket, uploaded_file: UploadedFile, by) -> TicketAttachment:
    """Store a file on the ticket through Django's storage API under a name we make (the
    customer's name is kept only as a label). Refused with a ValidationError when too large
    or not an accepted type (workflows/tickets/attachments.py); nothing is stored then."""
    file_type = attachment_check(uploaded_file)
    original = (uploaded_file.name or "").replace("\\", "/").rsplit("/", 1)[-1]
    attachment = TicketAttachment(
        ticket=ticket,
        name=original[:200] or f"attachment.{file_type.extension}",
        content_type=file_type.content_type,
        size=uploaded_file.size or 0,
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )
    stored_name = f"{get_random_string(32).lower()}.{file_type.extension}"
    attachment.file.save(stored_name, uploaded_file, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.delete(save=False)
        raise
    return attachment


# --- A dissatisfied answer --------------------------------------------------------------------


def _is_negative(response: FeedbackResponse) -> bool:
    return (response.csat is not None and response.csat <= 2) or (
        response.nps is not None and response.nps <= 6
    )


def _team_supervisor(team_id: int | None):
    if team_id is None:
        return None
    membership = (
        TeamMembership.objects.filter(
            team_id=team_id, role=TeamMembership.Role.SUPERVISOR, user__is_active=True
        )
        .select_related("user")
        .order_by("user_id")
        .first()
    )
    return membership.user if membership else None


def follow_up_external_id(ticket: Ticket) -> str:
    return f"survey-follow-up:{ticket.pk}"


def ticket_follow_up_open(*, ticket: Ticket) -> tuple[Ticket, bool]:
    """A complaint ticket for the supervisor of the ticket's team after a dissatisfied survey
    answer; once per ticket (its external id is unique). No supervisor: the least-loaded
    agent takes it."""
    external_id = follow_up_external_id(ticket)
    existing = Ticket.objects.filter(external_id=external_id).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        follow_up = _ticket_open(
            customer=ticket.customer,
            category=TicketCategory.COMPLAINT,
            subject=_("Follow-up: dissatisfied after #%(id)s") % {"id": ticket.pk},
            description=ticket.subject,
            channel=ticket.channel,
            priority=Priority.HIGH,
            external_id=external_id,
            created_by=None,
            parent=ticket,
            assignee=_team_supervisor(ticket.team_id),
        )
    return follow_up, True


def on_feedback_response_stored(sender, *, response: FeedbackResponse, **kwargs) -> None:
    """A dissatisfied answer to a ticket's survey opens one follow-up (no query for the
    others)."""
    if response.invitation_id is None or not _is_negative(response):
        return
    ticket = (
        Ticket.objects.select_related("customer")
        .filter(survey_invitation_id=response.invitation_id)
        .first()
    )
    if ticket is not None:
        ticket_follow_up_open(ticket=ticket)


def connect() -> None:
    from workflows.feedback.signals import feedback_response_stored

    feedback_response_stored.connect(on_feedback_response_stored, dispatch_uid="tickets_follow_up")


__all__ = [
    "InvalidTransition",
    "PRIORITY_WEIGHTS",
    "agents_by_load",
    "ticket_assign_least_loaded",
    "ticket_assign_to",
    "ticket_attachment_add",
    "ticket_create",
    "ticket_follow_up_open",
    "ticket_note_add",
    "ticket_transition",
    "tickets_offer_idle",
]
