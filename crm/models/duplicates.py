"""Likely duplicate customers, the supervisors' decisions on them, and the merges made."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models.customers import Customer


class DuplicatePair(models.Model):
    """Two customers that may be one person; `customer` has the lower id of the two."""

    class Status(models.TextChoices):
        OPEN = "open", _("To review")
        MERGED = "merged", _("Merged")
        NOT_DUPLICATE = "not_duplicate", _("Not a duplicate")

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    other = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("possible duplicate"),
    )
    score = models.FloatField(_("score"), help_text=_("0 to 100: how alike the two are."))
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    found_at = models.DateTimeField(_("found at"), default=timezone.now, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-score", "id"]
        permissions = [("merge_customers", _("Can merge duplicate customers"))]
        constraints = [
            models.UniqueConstraint(fields=["customer", "other"], name="duplicate_pair_unique"),
            models.CheckConstraint(
                condition=Q(customer__lt=F("other")), name="duplicate_pair_ordered"
            ),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="duplicate_pair_review_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} ~ {self.other_id} ({self.score:.0f})"


class CustomerMerge(models.Model):
    """A merge done: who merged which customer into which, and how many rows moved."""

    survivor = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="merges", verbose_name=_("kept customer")
    )
    merged = models.OneToOneField(
        Customer,
        on_delete=models.PROTECT,
        related_name="merge",
        verbose_name=_("merged customer"),
    )
    pair = models.ForeignKey(
        DuplicatePair,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("possible duplicate"),
    )
    moved = models.JSONField(_("rows moved"), default=dict)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("merged by"),
    )
    merged_at = models.DateTimeField(_("merged at"), default=timezone.now)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-merged_at"]

    def __str__(self) -> str:
        return f"{self.merged_id} -> {self.survivor_id}"
