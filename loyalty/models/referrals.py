"""Referrals: a referrer earns a commission on the referred customer's first qualifying purchase."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from loyalty.models.points import PointsEntry
from loyalty.models.programs import Program


class Referral(models.Model):
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("program")
    )
    referrer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        related_name="referrals_made",
        verbose_name=_("referrer"),
    )
    referred = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        related_name="referrals_received",
        verbose_name=_("referred customer"),
        db_index=False,  # the unique (referred, program) serves it
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    qualifying_transaction = models.ForeignKey(
        "crm.Transaction",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("qualifying purchase"),
    )
    commission_entry = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referral",
        verbose_name=_("commission entry"),
    )

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["referred"],
                name="referral_waiting",
                condition=Q(commission_entry__isnull=True),
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["referred", "program"], name="referral_referred_once_per_program"
            ),
            models.CheckConstraint(
                condition=~Q(referrer=models.F("referred")), name="referral_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.referred_id}"
