"""Loyalty programs and their tiers as data: a tier's criteria are groups of conditions.

A customer qualifies for a tier when ANY of its criterion groups holds; a group holds when ALL
its conditions hold. A group without conditions always holds: the base tier (rank 1) has one
such group, so every customer reaches it.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from loyalty.metrics import get_metric, metric_choices


class Program(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # The rules of movement's numbers (DESIGN.md, "loyalty: tiers").
    warning_ratio = models.DecimalField(
        _("warning ratio"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1.00"))],
        help_text=_(
            "A monthly evaluation counts against the customer when no criterion group of their "
            "tier holds even with its thresholds multiplied by this ratio."
        ),
    )
    warning_after_months = models.PositiveSmallIntegerField(
        _("warning after (months)"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
        help_text=_("Consecutive monthly evaluations under the ratio that open a warning."),
    )
    recovery_months = models.PositiveSmallIntegerField(
        _("time to recover (months)"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
        help_text=_(
            "After a warning opens, the customer moves down one tier unless they "
            "qualify for their tier again within this time."
        ),
    )
    credit_block_months = models.PositiveSmallIntegerField(
        _("requalification block after a serious credit event (months)"),
        default=12,
        validators=[MinValueValidator(6), MaxValueValidator(12)],
    )
    # Points (DESIGN.md, "loyalty: points").
    points_expiry_months = models.PositiveSmallIntegerField(
        _("points expire after (months)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
        help_text=_("Points expire this many months after the day they were earned."),
    )
    point_value = models.DecimalField(
        _("value of one point"),
        max_digits=8,
        decimal_places=4,
        default=Decimal("0.0100"),
        validators=[MinValueValidator(Decimal("0.0001"))],
        help_text=_("In the program's currency: the liability is outstanding points times this."),
    )

    class Meta:
        verbose_name = _("loyalty program")
        verbose_name_plural = _("loyalty programs")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credit_block_months__gte=6, credit_block_months__lte=12),
                name="program_credit_block_six_to_twelve",
            ),
            models.CheckConstraint(
                condition=Q(warning_ratio__gt=0, warning_ratio__lte=1),
                name="program_warning_ratio_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _localised(self.name, self.name_zh_hans)


class Tier(models.Model):
    MIN_RANK, MAX_RANK = 1, 5

    program = models.ForeignKey(
        Program,
        on_delete=models.CASCADE,
        db_index=False,
        related_name="tiers",
        verbose_name=_("program"),
    )
    rank = models.PositiveSmallIntegerField(
        _("rank"),
        validators=[MinValueValidator(MIN_RANK), MaxValueValidator(MAX_RANK)],
        help_text=_("1 (the base tier, reached by everyone) to 5 stars."),
    )
    name = models.CharField(_("name"), max_length=100)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("tier")
        verbose_name_plural = _("tiers")
        ordering = ["program", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["program", "rank"], name="tier_rank_unique"),
            models.CheckConstraint(
                condition=Q(rank__gte=1, rank__lte=5), name="tier_rank_one_to_five"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.display_name} ({self.rank}★)"

    @property
    def display_name(self) -> str:
        return _localised(self.name, self.name_zh_hans)


class CriterionGroup(models.Model):
    tier = models.ForeignKey(
        Tier, on_delete=models.CASCADE, related_name="groups", verbose_name=_("tier")
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("For example: assets, card spend, products.")
    )

    class Meta:
        verbose_name = _("criterion group")
        verbose_name_plural = _("criterion groups")
        ordering = ["tier", "id"]

    def __str__(self) -> str:
        return f"{self.tier}: {self.name}"


class Condition(models.Model):
    class Operator(models.TextChoices):
        GTE = ">=", _("at least (>=)")
        GT = ">", _("more than (>)")
        LTE = "<=", _("at most (<=)")
        LT = "<", _("less than (<)")

    group = models.ForeignKey(
        CriterionGroup,
        on_delete=models.CASCADE,
        related_name="conditions",
        verbose_name=_("criterion group"),
    )
    metric = models.CharField(_("metric"), max_length=50, choices=metric_choices)
    window_months = models.PositiveSmallIntegerField(
        _("window (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(36)],
        help_text=_("Leave empty for metrics that look at one day, such as products held."),
    )
    operator = models.CharField(
        _("operator"), max_length=2, choices=Operator.choices, default=Operator.GTE
    )
    threshold = models.DecimalField(_("threshold"), max_digits=16, decimal_places=2)
    parameters = models.JSONField(
        _("parameters"),
        default=dict,
        blank=True,
        help_text=_(
            'For example {"category": "dining"}, {"payment_method": "card"} or '
            '{"kind": "card_repayment"}.'
        ),
    )

    class Meta:
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        ordering = ["group", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(operator__in=[">=", ">", "<=", "<"]), name="condition_operator_valid"
            ),
            models.CheckConstraint(
                condition=Q(window_months__isnull=True) | Q(window_months__gte=1),
                name="condition_window_positive",
            ),
        ]

    def __str__(self) -> str:
        parameters = ", ".join(f"{name}={value}" for name, value in self.parameters.items())
        parameters = f" ({parameters})" if parameters else ""
        window = f" / {self.window_months}m" if self.window_months else ""
        return f"{self.get_metric_display()}{parameters}{window} {self.operator} {self.threshold}"

    def clean(self) -> None:
        if not self.metric:
            return  # the field's own error says it is required
        try:
            metric = get_metric(self.metric)
        except ValidationError as error:
            raise ValidationError({"metric": error}) from None
        errors: dict[str, ValidationError] = {}
        try:
            metric.clean_window(self.window_months)
        except ValidationError as error:
            errors["window_months"] = error
        try:
            self.parameters = metric.clean_parameters(self.parameters)
        except ValidationError as error:
            errors["parameters"] = error
        if errors:
            raise ValidationError(errors)


def _localised(name: str, name_zh_hans: str) -> str:
    language = (get_language() or "").lower()
    if language.startswith("zh") and name_zh_hans:
        return name_zh_hans
    return name
