"""The outbox: every outgoing message (e-mail, SMS, app push, WeChat, an RM's call task) is a
row here before anything is sent, and the outbox's rules decide whether, and when, it goes.

A message's `key` is unique per (purpose, customer, occasion): enqueueing the same occasion
twice finds the first message. Sending is a state machine claimed with guarded UPDATEs:

    queued -> sending -> sent | failed        held -> queued (quiet hours over)
    queued -> refused (a rule says no, with its reason)

A worker claims a message (queued -> sending) before it calls the channel and records the
result after; a worker that dies in between leaves it "sending" for review, never sent twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    PUSH = "push", _("App push")
    WECHAT = "wechat", _("WeChat template message")
    CALL = "call", _("Call task for the RM")


class Purpose(models.TextChoices):
    """As crm's consents: a service message needs service consent, an offer marketing consent."""

    SERVICE = "service", _("Service")
    MARKETING = "marketing", _("Marketing")
    # To a staff member (`staff_recipient`) about the customer, e.g. a ticket's SLA warning:
    # the customer's consents and the marketing rules do not apply.
    STAFF = "staff", _("To staff")


class OfferKind(models.TextChoices):
    """What a marketing message offers; loans and credit are never offered to students."""

    NONE = "none", _("No offer")
    LOAN = "loan", _("Loan")
    CREDIT = "credit", _("Credit (card, credit line)")
    INSURANCE = "insurance", _("Insurance")
    WEALTH = "wealth", _("Wealth management")
    REWARD = "reward", _("Points or reward")
    OTHER = "other", pgettext_lazy("offer kind", "Other")


class MessageTemplate(models.Model):
    """What a message says, per channel and language, with the customer's fields."""

    code = models.SlugField(_("code"), max_length=50)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES)
    purpose = models.CharField(
        _("purpose"), max_length=10, choices=Purpose.choices, default=Purpose.SERVICE
    )
    offer_kind = models.CharField(
        _("offer"), max_length=10, choices=OfferKind.choices, default=OfferKind.NONE
    )
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(
        _("body"), help_text=_("Django template syntax, e.g. {{ customer.full_name }}.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["code", "channel", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "channel", "language"], name="message_template_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_channel_display()}, {self.language})"


class Message(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        HELD = "held", _("Held (quiet hours)")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        REFUSED = "refused", _("Refused")

    class Refusal(models.TextChoices):
        NO_CONSENT = "no_consent", _("No consent for this channel and purpose")
        FREQUENCY_CAP = "frequency_cap", _("Frequency cap reached")
        SUPPRESSED = "suppressed", _("Suppressed after a sensitive event")
        STUDENT = "student", _("No loan or credit offers to students")
        EXPIRED = "expired", _("Expired before it could be sent")
        NO_ADDRESS = "no_address", _("No address for this channel")

    id = models.BigAutoField(primary_key=True)
    key = models.CharField(
        _("key"),
        max_length=255,
        unique=True,
        help_text=_("Purpose, customer and occasion: the same occasion is one message."),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        related_name="messages",
        verbose_name=_("customer"),
        db_index=False,  # the (customer, created_at) index serves it
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    offer_kind = models.CharField(
        _("offer"), max_length=10, choices=OfferKind.choices, default=OfferKind.NONE
    )
    occasion = models.CharField(
        _("occasion"),
        max_length=200,
        help_text=_('What the message is for, e.g. "campaign:12" or "sequence:3:step:2".'),
    )
    template = models.ForeignKey(
        MessageTemplate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("template"),
    )
    language = models.CharField(_("language"), max_length=10, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    recipient = models.CharField(
        _("recipient"), max_length=254, blank=True, help_text=_("The address it was sent to.")
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    refusal = models.CharField(
        _("refusal reason"), max_length=20, choices=Refusal.choices, blank=True
    )
    not_before = models.DateTimeField(_("not before"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    provider_id = models.CharField(_("provider's message id"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="call_tasks",
        verbose_name=_("assigned to"),
        help_text=_("Call tasks: the RM who calls."),
    )
    completed_at = models.DateTimeField(_("call done at"), null=True, blank=True)
    staff_recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff_messages",
        verbose_name=_("staff recipient"),
        help_text=_("Messages to staff: who gets it (at their e-mail address)."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["not_before", "id"],
                name="message_due",
                condition=Q(state__in=["queued", "held"]),
            ),
            models.Index(fields=["customer", "-created_at"], name="message_customer_newest"),
            models.Index(
                fields=["customer", "sent_at"],
                name="message_marketing_sent",
                condition=Q(purpose="marketing", state__in=["sending", "sent"]),
            ),
            models.Index(
                fields=["assigned_to", "not_before"],
                name="message_open_call_tasks",
                condition=Q(channel="call", completed_at__isnull=True),
            ),
            models.Index(fields=["state", "refusal"], name="message_state_refusal"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="refused", refusal__gt="")
                | (~Q(state="refused") & Q(refusal="")),
                name="message_refusal_with_state",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.customer_id} ({self.get_state_display()})"


class SensitiveEvent(models.Model):
    """A life event after which no marketing reaches the customer for a while."""

    class Kind(models.TextChoices):
        BEREAVEMENT = "bereavement", _("Bereavement")
        UNEMPLOYMENT = "unemployment", _("Unemployment")
        SERIOUS_ILLNESS = "illness", _("Serious illness")
        DIVORCE = "divorce", _("Divorce")
        OTHER = "other", pgettext_lazy("sensitive event", "Other")

    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        related_name="sensitive_events",
        verbose_name=_("customer"),
        db_index=False,  # the (customer, suppressed_until) index serves it
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    occurred_on = models.DateField(_("occurred on"))
    suppressed_until = models.DateField(
        _("no marketing until"),
        help_text=_("The last day without marketing; by default the kind's number of days."),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("sensitive event")
        verbose_name_plural = _("sensitive events")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(
                fields=["customer", "suppressed_until"], name="sensitive_event_suppression"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(suppressed_until__gte=models.F("occurred_on")),
                name="sensitive_event_suppression_after_event",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.occurred_on})"
