"""Import jobs: upload, preview, confirm and run, for the admin, the command and the task.

A run claims its job with a guarded UPDATE (waiting or failed -> running), so a task delivered
twice imports once. Each chunk's rows, refused rows and the job's progress commit together: a
failed run resumes after the last chunk it committed, and since every write is idempotent on
(source, external id), reading a row twice never stores it twice.
"""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from crm.imports.chunks import Refusal
from crm.imports.engine import ChunkOutcome, RunResult, Totals, import_rows
from crm.imports.mapping import HeaderNotFound
from crm.imports.reading import CSV, XLSX, FileRefused, file_check, file_open
from crm.models import ImportJob, ImportRowError, Source

logger = logging.getLogger(__name__)

PREVIEW_REFUSALS = 50


@dataclass
class Preview:
    """What a run would do with the file's first rows (all of a small file)."""

    totals: Totals = field(default_factory=Totals)
    refusals: list[Refusal] = field(default_factory=list)
    is_truncated: bool = False
    unused_columns: list[str] = field(default_factory=list)
    error: str = ""


def import_job_create(
    *, actor: AbstractUser | None, source: str, kind: str, uploaded_file: Any
) -> ImportJob:
    """Check the file (size, type by content) before anything parses it, and store it under a
    name the server makes. `actor` None is the system (the `import_file` command)."""
    if actor is not None and not actor.has_perm("crm.run_import"):
        raise PermissionDenied
    errors = {}
    if source not in Source.values:
        errors["source"] = ValidationError(_("Unknown source."), code="invalid_source")
    if kind not in ImportJob.Kind.values:
        errors["kind"] = ValidationError(_("Unknown kind of file."), code="invalid_kind")
    if errors:
        raise ValidationError(errors)
    name = uploaded_file.name or ""
    try:
        file_type = file_check(_binary(uploaded_file), name=name, size=uploaded_file.size)
    except FileRefused as error:
        raise ValidationError({"file": error}) from error
    job = ImportJob(source=source, kind=kind, original_name=name[-255:])
    job.created_by_id = actor.pk if actor is not None else None
    uploaded_file.seek(0)
    job.file.save(f"upload.{file_type}", File(_binary(uploaded_file)), save=False)
    job.save()
    return job


def import_job_preview(*, job_id: int, max_rows: int | None = None) -> Preview:
    """A dry run over at most `CRM_IMPORT_PREVIEW_MAX_ROWS` rows: writes nothing."""
    job = ImportJob.objects.get(pk=job_id)
    preview = Preview()

    def collect(outcome: ChunkOutcome) -> None:
        preview.totals.add(outcome)
        room = PREVIEW_REFUSALS - len(preview.refusals)
        preview.refusals += outcome.refusals[: max(0, room)]

    try:
        with _job_table(job) as table:
            result = import_rows(
                table,
                kind=job.kind,
                source=job.source,
                actor=job.created_by,
                change_reason="",
                chunk_size=settings.CRM_IMPORT_CHUNK_ROWS,
                on_chunk=collect,
                dry_run=True,
                max_rows=max_rows or settings.CRM_IMPORT_PREVIEW_MAX_ROWS,
            )
    except (FileRefused, HeaderNotFound) as error:
        preview.error = _error_text(error)
        return preview
    preview.is_truncated = result.is_truncated
    preview.unused_columns = result.header.unused
    return preview


def import_job_confirm(*, actor: AbstractUser, job_id: int) -> ImportJob:
    """Start a waiting job in a worker, once this transaction commits."""
    from crm.tasks import run_import_task

    if not actor.has_perm("crm.run_import"):
        raise PermissionDenied
    job = ImportJob.objects.get(pk=job_id)
    if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.FAILED):
        message = _("This import has already been started.")
        raise ValidationError(message, code="already_started")
    language = get_language()
    transaction.on_commit(lambda: run_import_task.delay(job_id=job.pk, language=language))
    return job


def import_job_run(
    *, job_id: int, on_progress: Callable[[Totals], None] | None = None, run_id: str = ""
) -> ImportJob:
    """Run a job to its end; a job another run holds, or one that is done, is left alone.
    `run_id` names the run (the Celery task's id): a run of the same id finding the job
    "running" is that task delivered again because its worker died, and resumes it after the
    last committed chunk. `on_progress` hears the totals after each chunk commits."""
    if not _claim(job_id, run_id=run_id):
        return ImportJob.objects.get(pk=job_id)
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    totals = Totals(
        rows_read=job.rows_read,
        created=job.rows_created,
        updated=job.rows_updated,
        unchanged=job.rows_unchanged,
        refused=job.rows_refused,
    )
    try:
        with _job_table(job) as table:
            ImportJob.objects.filter(pk=job.pk).update(encoding=table.encoding)
            result = import_rows(
                table,
                kind=job.kind,
                source=job.source,
                actor=job.created_by,
                change_reason=f"import {job.pk}: {job.original_name}"[:100],
                chunk_size=settings.CRM_IMPORT_CHUNK_ROWS,
                on_chunk=lambda outcome: _chunk_record(job, totals, outcome, on_progress),
                skip_rows=job.rows_read,
            )
    except (FileRefused, HeaderNotFound) as error:
        _finish(job, ImportJob.Status.FAILED, _error_text(error))
    except Exception:
        logger.exception("Import job %s stopped", job.pk)
        message = gettext("The import stopped on an unexpected error; run it again to resume.")
        _finish(job, ImportJob.Status.FAILED, message)
        raise
    else:
        _finish(job, ImportJob.Status.DONE, _summary_message(result, totals))
    job.refresh_from_db()
    return job


def _claim(job_id: int, *, run_id: str) -> bool:
    """Waiting or failed -> running, in one guarded UPDATE. A job still "running" is taken
    over by the run that claimed it, delivered again (its worker was killed and the broker
    requeued the task), or by anyone after the task's hard time limit (its worker is gone)."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.CRM_IMPORT_TIME_LIMIT_S)
    claimable = Q(status__in=[ImportJob.Status.PENDING, ImportJob.Status.FAILED]) | Q(
        status=ImportJob.Status.RUNNING, started_at__lt=stale
    )
    if run_id:
        claimable |= Q(status=ImportJob.Status.RUNNING, claimed_by=run_id)
    claimed = ImportJob.objects.filter(claimable, pk=job_id).update(
        status=ImportJob.Status.RUNNING,
        claimed_by=run_id,
        started_at=now,
        finished_at=None,
        message="",
    )
    return claimed == 1


def _chunk_record(
    job: ImportJob,
    totals: Totals,
    outcome: ChunkOutcome,
    on_progress: Callable[[Totals], None] | None,
) -> None:
    """In the chunk's transaction: its refused rows and the job's progress."""
    totals.add(outcome)
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                job_id=job.pk,
                row_number=refusal.row_number,
                column=refusal.column[:100],
                value=refusal.value,
                reason=str(refusal.reason)[:500],
            )
            for refusal in outcome.refusals
        ]
    )
    ImportJob.objects.filter(pk=job.pk).update(
        rows_read=totals.rows_read,
        rows_created=totals.created,
        rows_updated=totals.updated,
        rows_unchanged=totals.unchanged,
        rows_refused=totals.refused,
    )
    if on_progress is not None:
        transaction.on_commit(lambda: on_progress(totals))


def _finish(job: ImportJob, status: str, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, message=message, finished_at=timezone.now()
    )


def _summary_message(result: RunResult, totals: Totals) -> str:
    parts = []
    if totals.differing:
        rows = ", ".join(str(number) for number in totals.differing_rows)
        parts.append(
            gettext(
                "%(count)s rows name transactions imported before with other data "
                "(rows %(rows)s...). Transactions are never changed by an import: "
                "they were left as they were."
            )
            % {"count": totals.differing, "rows": rows}
        )
    if result.header.unused:
        parts.append(
            gettext("Columns not imported: %(columns)s.")
            % {"columns": ", ".join(result.header.unused)}
        )
    return "\n".join(parts)


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(str(message) for message in error.messages)
    return str(error.args[0]) if error.args else str(error)


@contextmanager
def _job_table(job: ImportJob) -> Iterator[Any]:
    name = job.file.name or ""
    with job.file.storage.open(name, "rb") as stored:
        binary = _binary(stored)
        file_type = XLSX if name.endswith(".xlsx") else CSV
        yield file_open(binary, file_type=file_type)


def _binary(django_file: Any) -> IO[bytes]:
    """The real file object under Django's File wrappers (io needs readable(), seekable())."""
    inner = getattr(django_file, "file", django_file)
    inner.seek(0)
    return inner
