"""Import a local file in the foreground: the way in for files too big for the browser.

    python manage.py import_file PATH --source core_banking --kind transactions [--user NAME]

The file is checked and copied into the import storage like an upload, then imported in
chunks; progress is printed per chunk. Without --user the import is the system's: new
customers get no relationship manager unless the file names one.
"""

import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from crm.models import ImportJob, Source
from crm.services.imports import import_job_create, import_job_run


class Command(BaseCommand):
    help = "Import a CSV or XLSX file of customers, transactions, balances or holdings."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", required=True, choices=Source.values)
        parser.add_argument("--kind", required=True, choices=ImportJob.Kind.values)
        parser.add_argument("--user", help="import as this user (needs crm.run_import)")

    def handle(self, *args, path: Path, source: str, kind: str, user: str | None, **options):
        actor = self._actor(user)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open("rb") as handle:
            uploaded = File(handle, name=path.name)
            uploaded.size = path.stat().st_size
            try:
                job = import_job_create(
                    actor=actor, source=source, kind=kind, uploaded_file=uploaded
                )
            except ValidationError as error:
                raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"job={job.pk} file={job.file.name}")
        started = time.monotonic()
        job = import_job_run(job_id=job.pk, on_progress=self._progress)
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"status={job.status} encoding={job.encoding or '-'} rows_read={job.rows_read} "
            f"created={job.rows_created} updated={job.rows_updated} "
            f"unchanged={job.rows_unchanged} refused={job.rows_refused} seconds={elapsed:.1f}"
        )
        if job.message:
            self.stdout.write(job.message)
        if job.status != ImportJob.Status.DONE:
            raise CommandError(f"Import job {job.pk} failed.")

    _last_progress = 0.0

    def _progress(self, totals) -> None:
        """At most every two seconds: a million rows make two hundred chunks."""
        if time.monotonic() - self._last_progress >= 2.0:
            self._last_progress = time.monotonic()
            self.stdout.write(f"rows_read={totals.rows_read} refused={totals.refused}")

    def _actor(self, username: str | None):
        if not username:
            return None
        try:
            actor = get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist as error:
            raise CommandError(f"No active user {username!r}.") from error
        if not actor.has_perm("crm.run_import"):
            raise CommandError(f"{username!r} may not import files (crm.run_import).")
        return actor
