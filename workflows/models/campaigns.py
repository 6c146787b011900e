"""Campaigns: an offer sent once to a segment through the outbox, with a control group held out
so the conversions can be compared ("did the offer make a difference?").

    draft -> scheduled -> launched -> finished        scheduled -> draft (unscheduled)

The launch (workflows/campaigns/launch.py) is a guarded UPDATE scheduled -> launched, so a
campaign's members are chosen and its messages queued once, however often the beat task runs.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflows.models.outbox import Channel, Message, OfferKind, Purpose

# The offer's parameters: exactly one of these keys.
OFFER_KEYS = ("points", "reward", "product")


class Campaign(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        LAUNCHED = "launched", _("Launched")
        FINISHED = "finished", _("Finished")

    class ConversionRule(models.TextChoices):
        PURCHASE = "purchase", _("A purchase")
        CATEGORY_PURCHASE = "category_purchase", _("A purchase in the category")
        REDEMPTION = "redemption", _("A redemption of the offered reward")

    name = models.CharField(_("name"), max_length=100, unique=True)
    segment = models.ForeignKey(
        "crm.Segment", on_delete=models.PROTECT, related_name="+", verbose_name=_("segment")
    )
    offer_kind = models.CharField(
        _("offer"), max_length=10, choices=OfferKind.choices, default=OfferKind.REWARD
    )
    offer = models.JSONField(
        _("offer parameters"),
        default=dict,
        help_text=_(
            'One of {"points": 500} (a points bonus on conversion), {"reward": 7} (a reward\'s '
            'id) or {"product": "travel card"}.'
        ),
    )
    program = models.ForeignKey(
        "loyalty.Program",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("program"),
        help_text=_("A points bonus: the program whose points the converted customers earn."),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    template_code = models.SlugField(
        _("message template"), max_length=50, help_text=_("The code of the message template.")
    )
    purpose = models.CharField(
        _("purpose"),
        max_length=10,
        choices=Purpose.choices,
        default=Purpose.MARKETING,
        editable=False,
    )
    scheduled_at = models.DateTimeField(_("send at"))
    expires_at = models.DateTimeField(
        _("offer expires at"),
        null=True,
        blank=True,
        help_text=_("Messages not sent by then are not sent at all."),
    )
    control_share = models.DecimalField(
        _("control group share"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.100"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("0.5"))],
        help_text=_("The share of the segment held out (no message), from 0 to 0.5."),
    )
    conversion_days = models.PositiveSmallIntegerField(
        _("conversion window (days)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    conversion_rule = models.CharField(
        _("conversion"),
        max_length=20,
        choices=ConversionRule.choices,
        default=ConversionRule.PURCHASE,
    )
    conversion_category = models.CharField(
        _("conversion category"),
        max_length=20,
        blank=True,
        help_text=_('For "a purchase in the category" only.'),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.DRAFT, editable=False
    )
    launched_at = models.DateTimeField(_("launched at"), null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-scheduled_at", "-id"]
        indexes = [
            models.Index(
                fields=["scheduled_at"],
                name="campaign_due",
                condition=models.Q(state="scheduled"),
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(control_share__gte=0, control_share__lte=Decimal("0.5")),
                name="campaign_control_share_range",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def occasion(self) -> str:
        return f"campaign:{self.pk}"

    @property
    def points_bonus(self) -> int:
        return int((self.offer or {}).get("points") or 0)

    def clean(self) -> None:
        from crm.models import Transaction
        from loyalty.models import Reward

        errors: dict[str, Any] = {}
        offer = self.offer if isinstance(self.offer, dict) else None
        if offer is None or len(offer) != 1 or next(iter(offer)) not in OFFER_KEYS:
            errors["offer"] = _('Give exactly one of "points", "reward" or "product".')
        else:
            key, value = next(iter(offer.items()))
            if key == "points" and (type(value) is not int or value <= 0):
                errors["offer"] = _("A points bonus is a positive whole number of points.")
            elif key == "points" and self.program_id is None:
                errors["program"] = _("Choose the program whose points the bonus is.")
            elif key == "reward" and (
                type(value) is not int or not Reward.objects.filter(pk=value).exists()
            ):
                errors["offer"] = _("No reward with this id.")
            elif key == "product" and (not isinstance(value, str) or not value.strip()):
                errors["offer"] = _("Name the product.")
            elif key in ("points", "reward") and self.offer_kind != OfferKind.REWARD:
                errors["offer_kind"] = _("Points and rewards are offers of points or a reward.")
            elif key == "product" and self.offer_kind in (OfferKind.NONE, OfferKind.REWARD):
                errors["offer_kind"] = _("Say what kind of product is offered.")
            elif self.conversion_rule == self.ConversionRule.REDEMPTION and key != "reward":
                errors["conversion_rule"] = _("Only a reward offer converts by a redemption.")
        if self.conversion_rule == self.ConversionRule.CATEGORY_PURCHASE:
            if self.conversion_category not in Transaction.Category.values:
                errors["conversion_category"] = _("Choose a transaction category.")
        elif self.conversion_category:
            errors["conversion_category"] = _('Only for "a purchase in the category".')
        if self.expires_at and self.scheduled_at and self.expires_at <= self.scheduled_at:
            errors["expires_at"] = _("The offer must expire after it is sent.")
        if errors:
            raise ValidationError(errors)


class CampaignMember(models.Model):
    """One customer of a campaign's segment at launch: sent the offer, or held out (control)."""

    id = models.BigAutoField(primary_key=True)
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="members", verbose_name=_("campaign")
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        related_name="campaign_memberships",
        verbose_name=_("customer"),
    )
    is_control = models.BooleanField(_("control group"), default=False)
    message = models.ForeignKey(
        Message,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message"),
    )
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}: {self.customer_id}"
