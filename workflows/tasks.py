"""Celery entry points of workflows: thin, one service call each, safe to run twice (the
claims make a second delivery send nothing again)."""

import logging

from celery import shared_task
from django.db import OperationalError

from workflows.campaigns.conversions import campaigns_conversions_record
from workflows.campaigns.launch import campaigns_launch_due
from workflows.feedback.reading.score import answers_score
from workflows.outbox.dispatch import messages_stale_sending, outbox_dispatch
from workflows.sequences.advance import enrollments_advance
from workflows.sequences.triggers import sequences_enrol
from workflows.webhooks.deliver import deliveries_post_due

logger = logging.getLogger(__name__)


def _claimed_task(*, soft_time_limit: int = 50 * 60, time_limit: int = 55 * 60):
    """A task whose work is claimed in the database (guarded UPDATEs, unique keys): redelivered
    when its worker dies, retried on a database error, and still done once."""
    return shared_task(
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=(OperationalError,),
        max_retries=3,
        soft_time_limit=soft_time_limit,
        time_limit=time_limit,
    )


@shared_task(
    acks_late=True, reject_on_worker_lost=True, soft_time_limit=50 * 60, time_limit=55 * 60
)
def outbox_dispatch_task() -> dict:
    """Every minute: dispatch the due messages; report (never retry) stale "sending" ones.
    No autoretry: a message claimed by this run is never sent by another."""
    result = outbox_dispatch()
    stale = messages_stale_sending().count()
    if stale:
        logger.warning("outbox: %s messages stuck in 'sending' need review", stale)
    return {
        "taken": result.taken,
        "sent": result.sent,
        "failed": result.failed,
        "held": result.held,
        "refused": result.refused,
        "stale_sending": stale,
    }


@_claimed_task(soft_time_limit=50, time_limit=55)
def webhooks_deliver_task() -> dict[str, int]:
    """Every minute: post the due webhook deliveries. Each is claimed by a guarded UPDATE, so
    two runs at once post each attempt once; a delivery whose worker died is posted again."""
    result = deliveries_post_due(seconds=40)
    return vars(result)


@shared_task(acks_late=True, soft_time_limit=50 * 60, time_limit=55 * 60)
def sequences_enrol_task() -> dict[str, int]:
    """Hourly: every active care sequence's trigger over all customers, one INSERT ... ON
    CONFLICT DO NOTHING each; a second run (or a retry) enrols nobody twice."""
    enrolled = sequences_enrol()
    return {str(sequence_id): count for sequence_id, count in enrolled.items()}


@shared_task(acks_late=True, soft_time_limit=50, time_limit=55)
def sequences_advance_task() -> dict:
    """Every minute: exit rules, then the due steps' messages into the outbox. Safe to run
    twice: a step's message is unique per enrollment in the outbox."""
    return vars(enrollments_advance())


@_claimed_task()
def campaigns_launch_task() -> dict[str, int]:
    """Every minute: launch the due scheduled campaigns. Each launch is claimed by a guarded
    UPDATE in its own transaction, so a retried or doubled run launches nothing twice."""
    results = campaigns_launch_due()
    return {str(pk): result.members for pk, result in results.items()}


@_claimed_task()
def campaigns_conversions_task() -> dict[str, int]:
    """Hourly: mark the campaigns' new conversions; finish campaigns past their window."""
    return {str(pk): n for pk, n in campaigns_conversions_record().items()}


FEEDBACK_SCORE_MAX_BATCHES = 500  # a million answers at the default batch size


@_claimed_task()
def feedback_sendings_send_task() -> dict[str, int]:
    """Every minute: send the due feedback form sendings. Each is claimed by a guarded UPDATE
    in its own transaction, so a retried or doubled run invites nobody twice."""
    from workflows.feedback.sending import sendings_send_due

    return {str(pk): result.invited for pk, result in sendings_send_due().items()}


@_claimed_task()
def feedback_reminders_task() -> int:
    """Hourly: one reminder per unanswered invitation, never two (`reminded_at` is claimed
    by a guarded UPDATE before its reminder is queued)."""
    from workflows.feedback.reminders import invitations_remind

    return invitations_remind()


@_claimed_task()
def feedback_score_task() -> dict[str, int]:
    """Every minute: read the unread free-text answers (language, topics, sentiment), up to
    FEEDBACK_SCORE_MAX_BATCHES batches; the next run goes on. Runs at once take turns per
    batch, and reading an answer twice writes the same thing."""
    return {"scored": answers_score(max_batches=FEEDBACK_SCORE_MAX_BATCHES)}


@_claimed_task(soft_time_limit=50, time_limit=55)
def tickets_watch_task() -> dict[str, int]:
    """Every minute: the tickets' SLA warnings (80%) and breaches, each once; a breach raises
    the priority once per ticket. Guarded UPDATEs make a doubled or late run change nothing
    twice."""
    from workflows.tickets.watch import tickets_watch

    return tickets_watch().summary()


@_claimed_task(soft_time_limit=4 * 60, time_limit=5 * 60)
def tickets_offer_idle_task() -> int:
    """Every 5 minutes: tickets whose assignee has not acted within the idle business minutes
    go to the next least-loaded agent. Each offer is guarded by the assignment it replaces,
    so a doubled run offers nothing twice."""
    from workflows.tickets.services import tickets_offer_idle

    return tickets_offer_idle()


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def compute_kpis_task(*, day: str | None = None) -> int:
    """Daily, early morning: every scope's KPIs for the day (today by default). A rerun or a
    retry replaces the day's rows (ON CONFLICT DO UPDATE), never duplicates them."""
    from datetime import date

    from workflows.kpis.snapshots import kpi_snapshots_compute

    return kpi_snapshots_compute(day=date.fromisoformat(day) if day else None)
