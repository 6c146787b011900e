"""Imports of files from the source systems: the job, its refused rows, and header mappings."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models.customers import Source


def import_upload_path(job: "ImportJob", filename: str) -> str:
    """Server-made names: the uploaded name is kept in `original_name`, never used as a path."""
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    return f"imports/{timezone.now():%Y/%m}/{job.uuid}{suffix}"


class ImportJob(models.Model):
    """One file of one kind from one source, imported by the admin, a command or a task."""

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        TRANSACTIONS = "transactions", _("Transactions")
        BALANCES = "balances", _("Balances")
        HOLDINGS = "holdings", _("Product holdings")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=import_upload_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255, editable=False)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True, editable=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, editable=False
    )
    rows_read = models.PositiveIntegerField(_("rows read"), default=0, editable=False)
    rows_created = models.PositiveIntegerField(_("created"), default=0, editable=False)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0, editable=False)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0, editable=False)
    rows_refused = models.PositiveIntegerField(_("refused"), default=0, editable=False)
    message = models.TextField(_("message"), blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True, editable=False)
    # The Celery task that runs it: the same task delivered again after its worker died takes
    # the job over at once (crm.services.imports._claim).
    claimed_by = models.CharField(_("run by task"), max_length=64, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        permissions = [("run_import", _("Can import files from source systems"))]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.get_kind_display()})"


class ImportRowError(models.Model):
    """A refused row: which row, which column, what was there and why it was refused."""

    job = models.ForeignKey(
        ImportJob, on_delete=models.CASCADE, related_name="row_errors", verbose_name=_("import")
    )
    row_number = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=100, blank=True)
    value = models.CharField(_("value"), max_length=500, blank=True)
    reason = models.CharField(_("reason"), max_length=500)

    class Meta:
        verbose_name = _("refused row")
        verbose_name_plural = _("refused rows")
        ordering = ["job", "row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number"], name="import_row_error_job_idx")]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.reason}"


class ColumnMapping(models.Model):
    """A column header used by one source's files (often Chinese) and the field it feeds.

    Built-in headers cover the usual English and Chinese names; these rows add a source's own.
    """

    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=ImportJob.Kind.choices)
    header = models.CharField(_("column header"), max_length=100)
    field = models.CharField(_("field"), max_length=50)

    class Meta:
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        ordering = ["source", "kind", "header"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "header"], name="column_mapping_unique_header"
            )
        ]

    def __str__(self) -> str:
        return f"{self.header} -> {self.field}"
