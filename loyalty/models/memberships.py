"""Memberships: a tier per customer and program, its history, warnings, and the runs."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from loyalty.models.programs import Program, Tier


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
    downgrades = models.PositiveIntegerField(_("downgrades"), default=0)
    warnings_opened = models.PositiveIntegerField(_("warnings opened"), default=0)
    is_monthly = models.BooleanField(
        _("monthly evaluation"),
        default=False,
        help_text=_("The month's first run: it counts toward downgrade warnings."),
    )
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
    months_under_ratio = models.PositiveSmallIntegerField(
        _("consecutive months under the warning ratio"), default=0
    )

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
    """History: every change of tier, why, and by whom (a run or a named user).

    Only `membership` is a foreign key in the database. The other relations keep Django's
    on_delete (CASCADE, PROTECT, SET_NULL are the ORM's) without a database constraint: the
    evaluation writes hundreds of thousands of rows in one statement, and PostgreSQL checks
    each constraint with a trigger call per row at commit (17 s for 400,000 rows with six
    of them, `python -m bench.tiers`). Customer and program repeat the membership's. Columns
    only a rare deletion looks up (a tier, a user) have no index of their own either.
    """

    class Kind(models.TextChoices):
        JOINED = "joined", _("joined")
        UPGRADE = "upgrade", _("upgrade")
        DOWNGRADE = "downgrade", _("downgrade after a warning")
        CREDIT_EVENT = "credit_event", _("serious credit event")

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="changes", verbose_name=_("membership")
    )
    customer = models.ForeignKey(
        "crm.Customer",
        db_constraint=False,
        db_index=False,
        on_delete=models.CASCADE,
        related_name="membership_changes",
        verbose_name=_("customer"),
    )
    program = models.ForeignKey(
        Program,
        db_constraint=False,
        on_delete=models.CASCADE,
        related_name="membership_changes",
        verbose_name=_("program"),
    )
    from_tier = models.ForeignKey(
        Tier,
        db_constraint=False,
        db_index=False,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from tier"),
    )
    to_tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("to tier"),
        db_constraint=False,
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    evaluated_on = models.DateField(_("evaluated on"))
    reason = models.JSONField(_("reason"), default=dict, blank=True)
    run = models.ForeignKey(
        EvaluationRun,
        db_constraint=False,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("evaluation run"),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        db_constraint=False,
        db_index=False,
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


class DowngradeWarning(models.Model):
    """Opened after N monthly evaluations under the ratio; closed by recovery, a downgrade,
    a grace period or a serious credit event. At most one is open per membership."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        RECOVERED = "recovered", _("recovered")
        DOWNGRADED = "downgraded", _("moved down a tier")
        SUSPENDED = "suspended", _("suspended by a grace period")
        CLOSED = "closed", _("closed by another change of tier")

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="warnings", verbose_name=_("membership")
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="downgrade_warnings",
        verbose_name=_("customer"),
        db_index=False,  # the (customer, status) index leads with it
    )
    program = models.ForeignKey(
        Program, on_delete=models.CASCADE, related_name="+", verbose_name=_("program")
    )
    tier = models.ForeignKey(
        Tier,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("tier at risk"),
    )
    opened_on = models.DateField(_("opened on"))
    deadline = models.DateField(
        _("deadline"), help_text=_("The first evaluation on or after this day moves down a tier.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    run = models.ForeignKey(
        EvaluationRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by run"),
    )

    class Meta:
        verbose_name = _("downgrade warning")
        verbose_name_plural = _("downgrade warnings")
        ordering = ["-opened_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(status="open"),
                name="warning_one_open_per_membership",
            )
        ]
        indexes = [models.Index(fields=["customer", "status"], name="warning_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.tier} ({self.get_status_display()})"
