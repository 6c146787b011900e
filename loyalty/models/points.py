"""The points ledger: append-only entries per account, and what is derived from them.

A balance is the sum of an account's entries. `PointsAccount.balance` (a cached total) and
`PointsLot.remaining` (what is left of each positive entry, for oldest-first spending and
expiry) are derived: every posting updates them in the same transaction, after taking the
account's row lock, and `manage.py verify_ledger` proves they equal the entries.

Invariants (`loyalty.services.ledger`):
- sum(entries.points) == account.balance;
- sum(lots.remaining) == max(balance, 0), no lot below 0;
- a lot's remaining == its initial points minus what allocations took from it;
- every entry has a unique key: retried work finds its entry and changes nothing.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from loyalty.models.programs import Program


class PointsAccount(models.Model):
    """A customer's points in a program. Its row is the lock every posting takes."""

    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        related_name="points_accounts",
        verbose_name=_("customer"),
        db_index=False,  # the unique (customer, program) serves lookups by customer
    )
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="points_accounts", verbose_name=_("program")
    )
    balance = models.BigIntegerField(
        _("balance"), default=0, help_text=_("The sum of the account's entries; may be negative.")
    )
    created_at = models.DateTimeField(_("opened at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("points account")
        verbose_name_plural = _("points accounts")
        ordering = ["program", "customer"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "program"], name="points_account_customer_program_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} · {self.program_id}: {self.balance}"


class PointsEntry(models.Model):
    """One posting. Never updated or deleted; a mistake is corrected by a new entry."""

    class Kind(models.TextChoices):
        EARN = "earn", _("Earn")
        REDEEM = "redeem", _("Redeem")
        EXPIRE = "expire", _("Expire")
        ADJUST = "adjust", _("Adjust")
        REVERSE = "reverse", _("Reverse")

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(
        PointsAccount,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("account"),
        db_index=False,  # the (account, id) index serves it
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    points = models.BigIntegerField(_("points"))
    key = models.CharField(
        _("key"),
        max_length=255,
        unique=True,
        help_text=_("What the entry is for, unique: a retry finds the entry and adds none."),
    )
    fingerprint = models.CharField(
        _("request fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("A digest of the request that asked for the entry, for keys from outside."),
    )
    occurred_on = models.DateField(
        _("occurred on"), help_text=_("The local day of what earned or spent the points.")
    )
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    transaction = models.ForeignKey(
        "crm.Transaction",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transaction"),
    )
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        verbose_name=_("reverses"),
    )
    note = models.TextField(_("note"), blank=True)
    details = models.JSONField(
        _("details"), default=dict, blank=True, help_text=_("Why: the earning lines, the rule.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("points entry")
        verbose_name_plural = _("points entries")
        ordering = ["-id"]
        permissions = [
            ("view_points_reports", _("Can view points reports (liability, buying power)")),
        ]
        indexes = [
            models.Index(fields=["account", "id"], name="points_entry_account_id"),
            models.Index(
                fields=["transaction"],
                name="points_entry_transaction",
                condition=Q(transaction__isnull=False),
            ),
            models.Index(
                fields=["reverses"],
                name="points_entry_reverses",
                condition=Q(reverses__isnull=False),
            ),
            models.Index(fields=["occurred_on", "kind"], name="points_entry_day_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["earn", "redeem", "expire", "adjust", "reverse"]),
                name="points_entry_kind_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="earn", points__gt=0)
                    | Q(kind__in=["redeem", "expire"], points__lt=0)
                    | (Q(kind__in=["adjust", "reverse"]) & ~Q(points=0))
                ),
                name="points_entry_sign_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.points:+d}"


class PointsLot(models.Model):
    """What is left of one positive entry, spent and expired oldest first."""

    entry = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="lot",
        verbose_name=pgettext_lazy("points", "entry"),
    )
    account = models.ForeignKey(
        PointsAccount,
        on_delete=models.PROTECT,
        related_name="lots",
        verbose_name=_("account"),
        db_index=False,  # the partial (account, expires_on) index serves it
    )
    initial = models.BigIntegerField(
        _("initial points"),
        help_text=_("The entry's points, less what paid off a negative balance."),
    )
    remaining = models.BigIntegerField(_("remaining points"))
    expires_on = models.DateField(_("expires on"))

    class Meta:
        verbose_name = _("points lot")
        verbose_name_plural = _("points lots")
        ordering = ["expires_on", "entry"]
        indexes = [
            models.Index(
                fields=["account", "expires_on", "entry"],
                name="points_lot_open_by_account",
                condition=Q(remaining__gt=0),
            ),
            models.Index(
                fields=["expires_on"],
                name="points_lot_open_by_expiry",
                condition=Q(remaining__gt=0),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0, initial__gte=models.F("remaining")),
                name="points_lot_remaining_within_initial",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.remaining}/{self.initial}"


class PointsAllocation(models.Model):
    """Points a negative entry (redeem, expire, reverse, adjust) took from a lot."""

    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(
        PointsEntry,
        on_delete=models.PROTECT,
        related_name="allocations",
        verbose_name=pgettext_lazy("points", "entry"),
    )
    lot = models.ForeignKey(
        PointsLot, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("lot")
    )
    points = models.BigIntegerField(_("points"))

    class Meta:
        verbose_name = _("points allocation")
        verbose_name_plural = _("points allocations")
        constraints = [
            models.CheckConstraint(condition=Q(points__gt=0), name="points_allocation_positive"),
            models.UniqueConstraint(fields=["entry", "lot"], name="points_allocation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.entry_id} ← {self.lot_id}: {self.points}"


class PointsAdjustment(models.Model):
    """A staff request to add or remove points, with a reason; large ones need a second person."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    account = models.ForeignKey(
        PointsAccount,
        on_delete=models.PROTECT,
        related_name="adjustments",
        verbose_name=_("account"),
    )
    points = models.BigIntegerField(_("points"), help_text=_("Positive adds, negative removes."))
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    entry = models.OneToOneField(
        PointsEntry,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustment",
        verbose_name=pgettext_lazy("points", "entry"),
    )

    class Meta:
        verbose_name = _("points adjustment")
        verbose_name_plural = _("points adjustments")
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("approve_pointsadjustment", _("Can approve large points adjustments")),
        ]
        indexes = [
            models.Index(
                fields=["requested_at"],
                name="points_adjustment_pending",
                condition=Q(status="pending"),
            )
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="points_adjustment_not_zero"),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=models.F("requested_by")),
                name="points_adjustment_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} ({self.get_status_display()})"


class IdempotencyKey(models.Model):
    """An API request's key and the answer it got: the same key again replays the answer.

    The row is inserted in the same transaction as the request's effect, after it: a concurrent
    request with the same key waits on the unique index, fails, and replays the stored answer.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("user"),
        db_index=False,  # the unique (user, key) serves it
    )
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    response = models.JSONField(_("response"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")
        ]

    def __str__(self) -> str:
        return self.key
