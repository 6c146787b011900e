"""Celery entry points of loyalty: thin, one service call each, safe to run twice."""

import logging
from datetime import date, timedelta

from celery import shared_task
from django.core.exceptions import ValidationError
from django.db import OperationalError
from django.utils import timezone

from loyalty.models import Program
from loyalty.services.benefits import benefits_grant
from loyalty.services.customer_values import customer_values_refresh
from loyalty.services.evaluation import program_evaluate
from loyalty.services.expiry import points_expire
from loyalty.services.grace import grace_periods_end
from loyalty.services.stability import unusual_spend_flag

logger = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def evaluate_program_task(*, program_id: int, as_of: str) -> int:
    """Evaluate a program as of a day (ISO date). A second delivery finds the day's run done
    and does nothing; a retry after a lost connection writes only what still differs.

    Then, in its own transaction, the tier benefits of the period holding today (the run is as
    of yesterday: the first night of a month grants the new month) go to every holder of the
    tiers just written; a second delivery grants nothing more."""
    run = program_evaluate(program_id=program_id, as_of=date.fromisoformat(as_of))
    benefits_grant(program=run.program, as_of=timezone.localdate())
    return run.pk


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,))
def evaluate_all_programs_task(*, as_of: str | None = None) -> list[int]:
    """Nightly: one evaluation task per active program, as of yesterday (a whole day).

    The day's unusual spends are flagged first, so that the evaluations leave them out."""
    day = as_of or _yesterday()
    unusual_spend_flag(as_of=date.fromisoformat(day))
    program_ids = list(Program.objects.filter(is_active=True).values_list("pk", flat=True))
    for program_id in program_ids:
        evaluate_program_task.delay(program_id=program_id, as_of=day)
    return program_ids


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def end_grace_periods_task(*, as_of: str | None = None) -> int:
    """Daily: approved grace periods whose end has come by `as_of` (ISO date, by default
    yesterday, the day the nightly evaluation looks at) are marked ended; a second run ends
    nothing more. The evaluation counts an ended period for the days it covered."""
    day = as_of or _yesterday()
    return grace_periods_end(today=date.fromisoformat(day))


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def points_expire_task(*, as_of: str | None = None) -> dict[str, int]:
    """Nightly: the points whose expiry day has come (by default today: a lot expiring on a
    day is gone from that night on) expire, oldest first. Each batch of accounts commits on
    its own, so a retry after a lost connection or a second delivery expires only what is
    still open; it returns what this run expired."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    result = points_expire(as_of=day)
    return {
        "accounts": result.accounts,
        "lots": result.lots,
        "points": result.points,
        "batches": result.batches,
    }


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def refresh_customer_values_task(*, as_of: str | None = None) -> int | None:
    """Nightly: refit the lifetime value models on the purchases up to `as_of` (by default
    yesterday) and rescore every customer. A second delivery refits the same data to the same
    numbers and changes no score. Returns the run's id, or None when there is too little to
    fit (an empty or new installation): that is logged, not retried."""
    day = date.fromisoformat(as_of) if as_of else date.fromisoformat(_yesterday())
    try:
        return customer_values_refresh(as_of=day).run.pk
    except ValidationError as error:
        logger.info("clv: nothing fitted as of %s: %s", day, error.messages)
        return None


def _yesterday() -> str:
    """The last whole local day, as the nightly tasks take it (ISO date)."""
    return (timezone.localdate() - timedelta(days=1)).isoformat()
