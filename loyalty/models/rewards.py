"""The reward catalogue and redemptions: points and stock are taken in one transaction."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from loyalty.models.points import PointsAccount, PointsEntry
from loyalty.models.programs import Program, Tier, _localised


class Reward(models.Model):
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="rewards", verbose_name=_("program")
    )
    name = models.CharField(_("name"), max_length=200)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    image = models.ImageField(_("image"), upload_to="rewards/", blank=True)
    points_price = models.PositiveIntegerField(
        _("price in points"), validators=[MinValueValidator(1)]
    )
    value = models.DecimalField(
        pgettext_lazy("money", "value"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text=_(
            "What the reward is worth in money: the points' buying power is measured by it."
        ),
    )
    stock = models.PositiveIntegerField(
        _("stock"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    min_tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lowest tier"),
        help_text=_("Only customers at this tier or above may redeem it (empty: everyone)."),
    )
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords(excluded_fields=["stock"])

    class Meta:
        verbose_name = _("reward")
        verbose_name_plural = _("rewards")
        ordering = ["program", "points_price", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(points_price__gt=0), name="reward_price_positive"),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="reward_stock_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="reward_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _localised(self.name, self.name_zh_hans)


class Redemption(models.Model):
    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(
        PointsAccount,
        on_delete=models.PROTECT,
        related_name="redemptions",
        verbose_name=_("account"),
    )
    reward = models.ForeignKey(
        Reward, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("reward")
    )
    points = models.PositiveIntegerField(_("points"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.COMPLETED
    )
    entry = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        related_name="redemption",
        verbose_name=_("redeem entry"),
    )
    cancel_entry = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cancelled_redemption",
        verbose_name=_("cancellation entry"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("redeemed by"),
    )
    created_at = models.DateTimeField(_("redeemed at"), default=timezone.now)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="redemption_account_newest")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="completed", cancel_entry__isnull=True)
                | Q(status="cancelled", cancel_entry__isnull=False),
                name="redemption_cancel_entry_with_status",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reward} ({self.get_status_display()})"
