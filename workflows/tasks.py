"""Celery entry points of workflows: thin, one service call each, safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from workflows.webhooks.deliver import deliveries_post_due


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    soft_time_limit=50,
    time_limit=55,
)
def webhooks_deliver_task() -> dict[str, int]:
    """Every minute: post the due webhook deliveries. Each is claimed by a guarded UPDATE, so
    two runs at once post each attempt once; a delivery whose worker died is posted again."""
    result = deliveries_post_due(seconds=40)
    return vars(result)
