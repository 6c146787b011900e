"""Care sequences: a trigger enrols customers (once per occasion), then steps with delays send
messages through the outbox until the sequence completes or an exit rule stops it.

An enrollment's `next_step` and `next_due_at` are the only clock: the beat task advances the
due ones set-based (workflows/sequences/advance.py), no task waits with a countdown.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflows.models.outbox import Channel, OfferKind, Purpose


class TriggerKind(models.TextChoices):
    PURCHASE_IN_CATEGORY = "purchase_in_category", _("Purchase in a category")
    TIER_CHANGED = "tier_changed", _("Tier changed")
    BIRTHDAY = "birthday", _("Birthday")
    NEW_CUSTOMER = "new_customer", _("New customer")
    SPEND_SURGE = "spend_surge", _("Spend in a category up (30 days against the 30 before)")
    POINTS_EXPIRING = "points_expiring", _("Points expiring soon")
    LARGE_TRANSFER = "large_transfer", _("Large transfer out (e.g. a home purchase)")
    TICKET_RESOLVED = "ticket_resolved", _("Service ticket resolved")


class ExitReason(models.TextChoices):
    CONVERTED = "converted", _("Converted")
    OPTED_OUT = "opted_out", _("Opted out of marketing")
    TICKET_OPENED = "ticket_opened", _("A ticket was opened")


def _category(value) -> None:
    from crm.models import Transaction

    if value not in Transaction.Category.values:
        raise ValidationError(_("Unknown category: %(value)s.") % {"value": value})


def _positive_number(value, name: str) -> None:
    try:
        ok = Decimal(str(value)) > 0
    except (InvalidOperation, ValueError):
        ok = False
    if not ok:
        raise ValidationError(_("%(name)s must be a positive number.") % {"name": name})


def trigger_parameters_validate(kind: str, parameters) -> None:
    """The parameters each trigger kind needs; raises ValidationError with what is wrong."""
    if not isinstance(parameters, dict):
        raise ValidationError(_("The parameters must be a JSON object."))
    if kind in (TriggerKind.PURCHASE_IN_CATEGORY, TriggerKind.SPEND_SURGE):
        _category(parameters.get("category"))
    if kind == TriggerKind.SPEND_SURGE:
        _positive_number(parameters.get("ratio", 3), "ratio")
    if kind == TriggerKind.TIER_CHANGED and parameters.get("direction", "any") not in (
        "up",
        "down",
        "any",
    ):
        raise ValidationError(_('The direction must be "up", "down" or "any".'))
    if kind == TriggerKind.POINTS_EXPIRING:
        days = parameters.get("days", 30)
        if not isinstance(days, int) or days < 1:
            raise ValidationError(_("days must be a whole number of at least 1."))
    if kind == TriggerKind.LARGE_TRANSFER:
        _positive_number(parameters.get("min_amount"), "min_amount")


class CareSequence(models.Model):
    name = models.CharField(_("name"), max_length=200)
    trigger = models.CharField(_("trigger"), max_length=30, choices=TriggerKind.choices)
    parameters = models.JSONField(
        _("trigger parameters"),
        default=dict,
        blank=True,
        help_text=_(
            'E.g. {"category": "mother_and_baby"}; {"direction": "up"}; '
            '{"category": "travel", "ratio": 3}; {"days": 30}; {"min_amount": "500000"}.'
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    exit_on_conversion = models.BooleanField(_("exit when converted"), default=False)
    conversion_category = models.CharField(
        _("conversion category"),
        max_length=30,
        blank=True,
        help_text=_("A purchase in this category since enrolment; empty: any purchase."),
    )
    exit_on_opt_out = models.BooleanField(
        _("exit when marketing consent is withdrawn"), default=True
    )
    exit_on_ticket = models.BooleanField(_("exit when a ticket is opened"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("care sequence")
        verbose_name_plural = _("care sequences")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        try:
            trigger_parameters_validate(self.trigger, self.parameters)
        except ValidationError as error:
            raise ValidationError({"parameters": error.messages}) from None
        if self.conversion_category:
            try:
                _category(self.conversion_category)
            except ValidationError as error:
                raise ValidationError({"conversion_category": error.messages}) from None


def step_condition_validate(condition) -> None:
    if not isinstance(condition, dict):
        raise ValidationError(_("The condition must be a JSON object."))
    unknown = set(condition) - {"min_tier_rank", "not_converted"}
    if unknown:
        raise ValidationError(
            _("Unknown condition: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    rank = condition.get("min_tier_rank")
    if rank is not None and (not isinstance(rank, int) or rank < 1):
        raise ValidationError(_("min_tier_rank must be a whole number of at least 1."))
    if "not_converted" in condition and not isinstance(condition["not_converted"], bool):
        raise ValidationError(_("not_converted must be true or false."))


class CareStep(models.Model):
    sequence = models.ForeignKey(
        CareSequence, on_delete=models.CASCADE, related_name="steps", verbose_name=_("sequence")
    )
    order = models.PositiveSmallIntegerField(_("order"))
    delay_days = models.PositiveSmallIntegerField(
        _("day"), help_text=_("Days after enrolment: 0 the same day.")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    template_code = models.SlugField(_("message template code"), max_length=50)
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.MARKETING
    )
    offer_kind = models.CharField(
        _("offer"), max_length=10, choices=OfferKind.choices, default=OfferKind.NONE
    )
    condition = models.JSONField(
        _("condition"),
        default=dict,
        blank=True,
        help_text=_('Optional, e.g. {"min_tier_rank": 3} or {"not_converted": true}.'),
    )
    feedback_form = models.ForeignKey(
        "FeedbackForm",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("feedback form"),
        help_text=_(
            "Optional: the message carries a personal link to this form as {{ feedback_link }}."
        ),
    )

    class Meta:
        verbose_name = _("care step")
        verbose_name_plural = _("care steps")
        ordering = ["sequence", "order"]
        constraints = [
            models.UniqueConstraint(fields=["sequence", "order"], name="care_step_unique_order")
        ]

    def __str__(self) -> str:
        return f"{self.order}: {self.get_channel_display()} ({self.template_code})"

    def clean(self) -> None:
        from workflows.models.outbox import MessageTemplate

        try:
            step_condition_validate(self.condition)
        except ValidationError as error:
            raise ValidationError({"condition": error.messages}) from None
        if (
            self.template_code
            and self.channel
            and not MessageTemplate.objects.filter(
                code=self.template_code, channel=self.channel, is_active=True
            ).exists()
        ):
            raise ValidationError(
                {"template_code": _("No active message template with this code for the channel.")}
            )
        if self.feedback_form is not None:
            from workflows.feedback.invitations import channel_check_for_link, form_check_sendable

            try:
                form_check_sendable(self.feedback_form)
                channel_check_for_link(self.channel)
            except ValidationError as error:
                raise ValidationError({"feedback_form": error.messages}) from None


class Enrollment(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        EXITED = "exited", _("Exited")

    id = models.BigAutoField(primary_key=True)
    sequence = models.ForeignKey(
        CareSequence,
        on_delete=models.CASCADE,
        related_name="enrollments",
        verbose_name=_("sequence"),
        db_index=False,  # the unique (sequence, customer, occasion) serves it
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="care_enrollments",
        verbose_name=_("customer"),
    )
    occasion = models.CharField(_("occasion"), max_length=100)
    enrolled_at = models.DateTimeField(_("enrolled at"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)
    exit_reason = models.CharField(
        _("exit reason"), max_length=20, choices=ExitReason.choices, blank=True
    )
    next_step = models.PositiveSmallIntegerField(_("next step"), null=True, blank=True)
    next_due_at = models.DateTimeField(_("next step due at"), null=True, blank=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["-enrolled_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sequence", "customer", "occasion"], name="enrollment_once_per_occasion"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_due_at", "id"],
                name="enrollment_due",
                condition=Q(state="active"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.sequence_id}/{self.customer_id} ({self.occasion})"
