"""Earning rules as data: what a transaction (or a review) earns in a program.

A transaction earns when a base rule of the program matches it: floor(amount x points per
unit x the product of every multiplier that matches), then fixed bonuses are added, and a daily
cap limits what one customer earns from rules in one local day. `loyalty.earning` turns the
rules into SQL for bulk earning and into lines for the preview; both read these rows.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import Interaction, Source, Transaction
from loyalty.models.programs import Program, Tier


class EarningRule(models.Model):
    class Kind(models.TextChoices):
        BASE = "base", _("Base rate (points per currency unit)")
        CATEGORY = "category", _("Multiplier by category")
        TIME_WINDOW = "time_window", _("Multiplier by time window")
        TIER = "tier", _("Multiplier by tier")
        FIRST_ORDER = "first_order", _("First-order multiplier for new customers")
        BONUS = "bonus", _("One-off bonus")
        DAILY_CAP = "daily_cap", _("Daily cap")

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    # What each kind needs; the other fields of "what it applies to / gives" stay empty.
    REQUIRED: dict[str, tuple[str, ...]] = {
        Kind.BASE: ("points_per_unit",),
        Kind.CATEGORY: ("category", "multiplier"),
        Kind.TIME_WINDOW: ("starts_at", "ends_at", "multiplier"),
        Kind.TIER: ("tier", "multiplier"),
        Kind.FIRST_ORDER: ("multiplier",),
        Kind.BONUS: ("points",),
        Kind.DAILY_CAP: ("points",),
    }

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="earning_rules", verbose_name=_("program")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    name = models.CharField(
        _("name"), max_length=100, help_text=_("Shown in the explanation of what a purchase earns.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(
        _("valid until"), null=True, blank=True, help_text=_("The last day the rule applies.")
    )
    # What it applies to
    transaction_kind = models.CharField(
        _("transaction kind"),
        max_length=20,
        choices=Transaction.Kind.choices,
        blank=True,
        help_text=_(
            "Base rates and bonuses: the kind of transaction (empty: purchases). A bonus with an "
            "interaction kind instead applies to interactions such as reviews."
        ),
    )
    source = models.CharField(
        _("source"),
        max_length=20,
        choices=Source.choices,
        blank=True,
        help_text=_("Base rates: only transactions from this system (empty: any)."),
    )
    category = models.CharField(
        _("category"), max_length=30, choices=Transaction.Category.choices, blank=True
    )
    tier = models.ForeignKey(
        Tier,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="earning_rules",
        verbose_name=_("tier"),
    )
    weekday = models.PositiveSmallIntegerField(
        _("weekday"),
        choices=Weekday.choices,
        null=True,
        blank=True,
        help_text=_("Empty: every day."),
    )
    starts_at = models.TimeField(_("from (local time)"), null=True, blank=True)
    ends_at = models.TimeField(
        _("until (local time)"), null=True, blank=True, help_text=_("Not included.")
    )
    min_amount = models.DecimalField(
        _("minimum amount"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Bonuses: the transaction's amount must be at least this."),
    )
    interaction_kind = models.CharField(
        _("interaction kind"), max_length=20, choices=Interaction.Kind.choices, blank=True
    )
    # What it gives
    points_per_unit = models.DecimalField(
        _("points per currency unit"),
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.0001"))],
    )
    multiplier = models.DecimalField(
        _("multiplier"),
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001")), MaxValueValidator(Decimal("100"))],
        help_text=_("For example 2 for double points, 1.15 for 15% more."),
    )
    points = models.PositiveIntegerField(
        _("points"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text=_("Bonuses: the points given. Daily caps: the most one customer earns a day."),
    )

    class Meta:
        verbose_name = _("earning rule")
        verbose_name_plural = _("earning rules")
        ordering = ["program", "kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="base", points_per_unit__isnull=False)
                | Q(kind="bonus", points__isnull=False)
                | Q(kind="daily_cap", points__isnull=False)
                | Q(kind__in=["category", "time_window", "tier", "first_order"], multiplier__gt=0),
                name="earning_rule_gives_something",
            ),
            models.CheckConstraint(
                condition=Q(valid_from__isnull=True)
                | Q(valid_until__isnull=True)
                | Q(valid_until__gte=models.F("valid_from")),
                name="earning_rule_validity_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.name}"

    def clean(self) -> None:
        required = self.REQUIRED.get(self.kind, ())
        errors = {
            field: _("This kind of rule needs it.")
            for field in required
            if getattr(self, field) in (None, "")
        }
        starts_at, ends_at = self.starts_at, self.ends_at
        window = self.kind == self.Kind.TIME_WINDOW and starts_at and ends_at
        if window and starts_at is not None and ends_at is not None and ends_at <= starts_at:
            errors["ends_at"] = _("The window ends after it starts.")
        if self.tier is not None and self.tier.program_id != self.program_id:
            errors["tier"] = _("Choose a tier of the rule's program.")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = _("The rule ends after it starts.")
        if errors:
            raise ValidationError(errors)
