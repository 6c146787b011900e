"""Loyalty programs and their tiers as data: a tier's criteria are groups of conditions.

A customer qualifies for a tier when ANY of its criterion groups holds; a group holds when ALL
its conditions hold. A group without conditions always holds: the base tier (rank 1) has one
such group, so every customer reaches it.
"""

from django.conf import settings
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

    class Meta:
        verbose_name = _("loyalty program")
        verbose_name_plural = _("loyalty programs")
        ordering = ["code"]

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


class EvaluationRun(models.Model):
    """One evaluation of a program as of a day; a second run on the same day is a no-op."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="runs", verbose_name=_("program")
    )
    as_of = models.DateField(_("as of"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    customers_evaluated = models.PositiveIntegerField(_("customers evaluated"), default=0)
    memberships_created = models.PositiveIntegerField(_("memberships created"), default=0)
    upgrades = models.PositiveIntegerField(_("upgrades"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-as_of", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["program", "as_of"], name="evaluation_run_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.as_of} ({self.get_status_display()})"


class Membership(models.Model):
    """A customer's current tier in a program: a narrow table, the tier is rewritten often."""

    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("customer"),
        db_index=False,  # the unique (customer, program) serves lookups by customer
    )
    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("program")
    )
    tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("tier")
    )
    since = models.DateField(_("since"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["program", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "program"], name="membership_customer_program_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.tier}"


class MembershipChange(models.Model):
    """History: every change of tier, why, and by whom (a run or a named user)."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="changes", verbose_name=_("membership")
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="membership_changes",
        verbose_name=_("customer"),
    )
    program = models.ForeignKey(
        Program,
        on_delete=models.CASCADE,
        related_name="membership_changes",
        verbose_name=_("program"),
    )
    from_tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from tier"),
    )
    to_tier = models.ForeignKey(
        Tier, on_delete=models.PROTECT, related_name="+", verbose_name=_("to tier")
    )
    evaluated_on = models.DateField(_("evaluated on"))
    reason = models.JSONField(_("reason"), default=dict, blank=True)
    run = models.ForeignKey(
        EvaluationRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("evaluation run"),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("membership change")
        verbose_name_plural = _("membership changes")
        ordering = ["-evaluated_on", "-id"]
        indexes = [
            models.Index(fields=["customer", "-evaluated_on", "-id"], name="mchange_customer_idx")
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_tier_id} → {self.to_tier_id} ({self.evaluated_on})"
