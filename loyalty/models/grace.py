"""Grace periods: an RM asks for a freeze of downgrades, a supervisor of the team decides."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from loyalty.models.programs import Program


class GracePeriod(models.Model):
    """While an approved period runs (starts_on <= day < ends_on) no downgrade happens."""

    MIN_MONTHS, MAX_MONTHS = 1, 3

    class Reason(models.TextChoices):
        ILLNESS = "illness", _("illness")
        INVESTMENT_LOSS = "investment_loss", _("investment loss")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for a decision")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        ENDED = "ended", _("ended")

    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="grace_periods",
        verbose_name=_("customer"),
        db_index=False,  # the (customer, program, status) index leads with it
    )
    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="+", verbose_name=_("program")
    )
    months = models.PositiveSmallIntegerField(
        _("months"), validators=[MinValueValidator(MIN_MONTHS), MaxValueValidator(MAX_MONTHS)]
    )
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    explanation = models.TextField(_("explanation"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("decision comment"), blank=True)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(
        _("ends on"), null=True, blank=True, help_text=_("The first day without the freeze.")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("grace period")
        verbose_name_plural = _("grace periods")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(months__gte=1, months__lte=3), name="grace_one_to_three_months"
            ),
            # Four eyes: nobody decides on their own request.
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="grace_not_decided_by_requester",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(starts_on__isnull=False, ends_on__isnull=False),
                name="grace_approved_has_dates",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "program", "status"], name="grace_customer_idx"),
            models.Index(fields=["status", "ends_on"], name="grace_status_end_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.program} · {self.get_status_display()}"


class GraceEvidence(models.Model):
    """A file backing a grace period request; served only through the admin, never public."""

    grace_period = models.ForeignKey(
        GracePeriod,
        on_delete=models.CASCADE,
        related_name="evidence",
        verbose_name=_("grace period"),
    )
    file = models.FileField(_("file"), upload_to="grace-evidence/%Y/%m/")
    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["grace_period", "id"]

    def __str__(self) -> str:
        return self.original_name
