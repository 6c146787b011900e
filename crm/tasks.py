"""Celery entry points of crm: thin, one service call each, safe to run twice."""

from dataclasses import asdict

from celery import shared_task
from django.conf import settings
from django.db import OperationalError
from django.utils import translation

from crm.privacy.services import access_logs_delete_expired
from crm.services.duplicates import duplicates_find
from crm.services.imports import import_job_run
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


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    time_limit=settings.CRM_IMPORT_TIME_LIMIT_S,
    soft_time_limit=settings.CRM_IMPORT_TIME_LIMIT_S - 60,
)
def run_import_task(self, *, job_id: int, language: str | None = None) -> None:
    """Run an import job; another task's delivery finds it claimed or done and does nothing.
    This task delivered again (its worker died) or retried after a lost database connection
    resumes after the last committed chunk."""
    with translation.override(language or settings.LANGUAGE_CODE):
        import_job_run(job_id=job_id, run_id=self.request.id or "")


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=50 * 60,
    time_limit=55 * 60,
)
def find_duplicates_task() -> dict:
    """Nightly: find likely duplicate customers (safe to run twice: pairs are upserted)."""
    return asdict(duplicates_find())


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def delete_expired_access_logs_task() -> int:
    """Nightly: access log rows past their retention go, in one DELETE (a rerun finds none)."""
    return access_logs_delete_expired()
