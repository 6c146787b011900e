"""Celery entry points of crm: thin, one service call each, safe to run twice."""

from celery import shared_task
from django.db import OperationalError

from crm.services.tags import tags_recompute


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def recompute_tags_task(*, tag_id: int | None = None) -> None:
    """Nightly, and from the tag admin's "recompute now". Idempotent: a rerun adds nothing."""
    tags_recompute(tag_id=tag_id)
