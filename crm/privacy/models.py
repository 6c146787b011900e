"""The record of every data-subject request and of every staff access to a customer's page."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PrivacyRequest(models.Model):
    """A customer's request to receive their data or to have it erased, and what was done."""

    class Kind(models.TextChoices):
        EXPORT = "export", _("Data export")
        ERASURE = "erasure", _("Erasure (anonymisation)")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        related_name="privacy_requests",
        db_index=False,  # the (customer, created) index serves it
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING
    )
    received_on = models.DateField(
        _("received on"), help_text=_("The day the customer made the request.")
    )
    reference = models.CharField(
        _("reason or reference"),
        max_length=200,
        help_text=_("The channel and reference of the request, e.g. a letter or ticket number."),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("done by"),
    )
    summary = models.JSONField(
        _("summary"),
        default=dict,
        blank=True,
        help_text=_("Rows exported or made anonymous, per table."),
    )

    class Meta:
        verbose_name = _("privacy request")
        verbose_name_plural = _("privacy requests")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("export_customer_data", _("Can export a customer's data on request")),
            ("erase_customer", _("Can erase a customer's personal data on request")),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="privacy_request_customer_idx"),
            models.Index(fields=["-created_at", "-id"], name="privacy_request_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class CustomerAccessLog(models.Model):
    """One staff member opening (or exporting, or erasing) one customer: one INSERT each."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed the customer's page")
        API_READ = "api_read", _("Read the customer through the API")
        EXPORT = "export", _("Exported the customer's data")
        ERASE = "erase", _("Erased the customer's personal data")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        db_index=False,  # the (user, at) index serves it
        related_name="+",
        verbose_name=_("user"),
    )
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.CASCADE,
        db_index=False,  # the (customer, at) index serves it
        related_name="+",
        verbose_name=_("customer"),
    )
    action = models.CharField(
        _("action"), max_length=10, choices=Action.choices, default=Action.VIEW
    )
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("customer access")
        verbose_name_plural = _("customer accesses")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-at"], name="access_log_customer_idx"),
            models.Index(fields=["user", "-at"], name="access_log_user_idx"),
            # The list newest first, and the retention clean-up's range delete.
            models.Index(fields=["-at", "-id"], name="access_log_newest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.get_action_display()} {self.customer_id}"
