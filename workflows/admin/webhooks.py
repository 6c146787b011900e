"""Webhooks in admin: endpoints (events as checkboxes; the secret shown whole once, on the page
after it was created, masked after), and the delivery log (read-only, with a retry action)."""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin.scoping import CappedCountPaginator
from workflows.models import WebhookDelivery, WebhookEndpoint
from workflows.models.webhooks import EventType


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "events", "is_active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "url", "event_list", "is_active", "masked_secret", "created_at")
    list_filter = ("is_active",)
    readonly_fields = ("masked_secret", "created_at")

    def get_fields(self, request, obj=None):
        fields = ["name", "url", "events", "is_active"]
        return fields if obj is None else [*fields, "masked_secret", "created_at"]

    @admin.display(description=_("events"))
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        labels = dict(EventType.choices)
        return ", ".join(str(labels.get(event, event)) for event in endpoint.events)

    @admin.display(description=_("signing secret"))
    def masked_secret(self, endpoint: WebhookEndpoint) -> str:
        return f"{endpoint.secret[:4]}…" if endpoint.secret else ""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            # The only time the whole secret is shown: the receiver's team copies it now.
            self.message_user(
                request,
                _("The signing secret, shown only now: %(secret)s") % {"secret": obj.secret},
                messages.WARNING,
            )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_display = (
        "created_at",
        "event_type",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "delivered_at",
        "event_id",
    )
    list_select_related = ("endpoint",)
    list_filter = ("state", "event_type", "endpoint")
    search_fields = ("=event_id",)
    search_help_text = _("An event id (X-Webhook-Id).")
    sortable_by = ("created_at",)
    list_per_page = 50
    actions = ("retry",)
    readonly_fields = (
        "endpoint",
        "event_type",
        "event_id",
        "payload",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    )

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        return request.user.has_perm("workflows.change_webhookdelivery")

    @admin.action(description=_("Try again (deliveries that gave up)"), permissions=["retry"])
    def retry(self, request, queryset):
        count = queryset.filter(state=WebhookDelivery.State.GAVE_UP).update(
            state=WebhookDelivery.State.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery will be tried again.",
                "%(count)d deliveries will be tried again.",
                count,
            )
            % {"count": count},
        )
