"""Tier benefits: a quota of uses per period, or a standing discount.

A customer holds a tier's benefits while their tier is that tier or above. The nightly
evaluation grants the current period's allowance to every holder (one row per customer, benefit
and period); a use is a guarded `UPDATE ... SET used = used + 1 WHERE used < quota`, so
concurrent uses never go over the quota.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from loyalty.models.programs import Tier, _localised


class Benefit(models.Model):
    class Period(models.TextChoices):
        MONTH = "month", _("per month")
        QUARTER = "quarter", _("per quarter")
        YEAR = "year", _("per year")

    tier = models.ForeignKey(
        Tier,
        on_delete=models.CASCADE,
        related_name="benefits",
        verbose_name=pgettext_lazy("benefit", "from tier"),
        help_text=_("Customers at this tier or above hold the benefit."),
    )
    code = models.SlugField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=200, blank=True)
    quota = models.PositiveSmallIntegerField(
        _("uses per period"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Empty: a standing benefit (a discount), not counted."),
    )
    period = models.CharField(
        _("period"), max_length=10, choices=Period.choices, default=Period.YEAR
    )
    discount_percent = models.DecimalField(
        _("discount (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tier benefit")
        verbose_name_plural = _("tier benefits")
        ordering = ["tier", "code"]
        constraints = [
            models.UniqueConstraint(fields=["tier", "code"], name="benefit_code_unique_per_tier"),
            models.CheckConstraint(
                condition=Q(quota__isnull=False) | Q(discount_percent__isnull=False),
                name="benefit_quota_or_discount",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _localised(self.name, self.name_zh_hans)


class BenefitAllowance(models.Model):
    """A customer's uses of a counted benefit in one period."""

    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="benefit_allowances",
        verbose_name=_("customer"),
        db_index=False,  # the unique (customer, benefit, period) serves it
    )
    benefit = models.ForeignKey(
        Benefit, on_delete=models.PROTECT, related_name="allowances", verbose_name=_("benefit")
    )
    period_start = models.DateField(_("period starts"))
    period_end = models.DateField(_("period ends"), help_text=_("The period's last day."))
    quota = models.PositiveSmallIntegerField(_("quota"))
    used = models.PositiveSmallIntegerField(_("used"), default=0)
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)

    class Meta:
        verbose_name = _("benefit allowance")
        verbose_name_plural = _("benefit allowances")
        ordering = ["customer", "benefit", "-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "benefit", "period_start"], name="benefit_allowance_unique"
            ),
            models.CheckConstraint(
                condition=Q(used__lte=models.F("quota")), name="benefit_allowance_within_quota"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.benefit}: {self.used}/{self.quota}"

    @property
    def left(self) -> int:
        return self.quota - self.used


class BenefitUse(models.Model):
    allowance = models.ForeignKey(
        BenefitAllowance, on_delete=models.PROTECT, related_name="uses", verbose_name=_("allowance")
    )
    key = models.CharField(_("key"), max_length=255, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    used_at = models.DateTimeField(_("used at"), default=timezone.now)

    class Meta:
        verbose_name = _("benefit use")
        verbose_name_plural = _("benefit uses")
        ordering = ["-used_at", "-id"]

    def __str__(self) -> str:
        return f"{self.allowance} @ {self.used_at:%Y-%m-%d}"
