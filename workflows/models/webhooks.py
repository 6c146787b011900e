"""Outbound webhooks: other systems subscribe to events (tier changed, points earned...).

Each event makes one delivery per subscribed endpoint, in the transaction that caused it; a
beat task posts due deliveries, signed with the endpoint's secret (HMAC-SHA256), and retries
failures with backoff until it gives up. The delivery's `event_id` is the same on every
attempt, so the receiver can deduplicate.
"""

import secrets
import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    TIER_CHANGED = "tier.changed", _("Tier changed")
    POINTS_EARNED = "points.earned", _("Points earned")
    POINTS_REDEEMED = "points.redeemed", _("Points redeemed")
    FEEDBACK_RECEIVED = "feedback.received", _("Feedback received")
    TICKET_RESOLVED = "ticket.resolved", _("Ticket resolved")


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        default=_new_secret,
        help_text=_("Signs every delivery (HMAC-SHA256); the receiver checks it."),
    )
    events = models.JSONField(
        _("events"), default=list, help_text=_("The event types it receives.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERING = "delivering", _("Delivering")
        DELIVERED = "delivered", _("Delivered")
        GAVE_UP = "gave_up", _("Gave up")

    id = models.BigAutoField(primary_key=True)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event_type = models.CharField(_("event"), max_length=30, choices=EventType.choices)
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4)
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="webhook_delivery_due",
                condition=Q(state="pending"),
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_delivery_once_per_event"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint} ({self.get_state_display()})"
