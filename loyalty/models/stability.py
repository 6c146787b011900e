"""Stability: a purchase far above the customer's own pattern does not count until accepted."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class StabilityFlag(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("waiting for review")
        ACCEPTED = "accepted", _("accepted: counts")
        REJECTED = "rejected", _("rejected: does not count")

    transaction = models.OneToOneField(
        "crm.Transaction",
        on_delete=models.CASCADE,
        related_name="stability_flag",
        verbose_name=_("transaction"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="stability_flags",
        verbose_name=_("customer"),
        db_index=False,  # the (customer, status) index leads with it
    )
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    monthly_median = models.DecimalField(
        _("trailing monthly median"), max_digits=16, decimal_places=2
    )
    flagged_on = models.DateField(_("flagged on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        verbose_name = _("unusual spend")
        verbose_name_plural = _("unusual spends")
        ordering = ["-flagged_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "status"], name="stability_customer_idx"),
            models.Index(fields=["status", "-flagged_on"], name="stability_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.amount} ({self.get_status_display()})"
