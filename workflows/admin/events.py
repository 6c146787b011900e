"""Sensitive events in admin: the customer's RM records one (kind, day, note); the suppression
defaults to the kind's number of days (workflows.suppression). Written through the service."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import CustomerScopedAdmin
from workflows.models import SensitiveEvent
from workflows.services.events import sensitive_event_record
from workflows.suppression import default_suppressed_until


class SensitiveEventForm(forms.ModelForm):
    class Meta:
        model = SensitiveEvent
        fields = ("customer", "kind", "occurred_on", "suppressed_until", "note")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "suppressed_until" in self.fields:
            self.fields["suppressed_until"].required = False
            self.fields["suppressed_until"].help_text = _(
                "Leave empty for the kind's default number of days after the event."
            )

    def clean(self):
        data = super().clean() or {}
        kind, occurred_on = data.get("kind"), data.get("occurred_on")
        if occurred_on and occurred_on > timezone.localdate():
            self.add_error("occurred_on", _("The event cannot be in the future."))
        if kind and occurred_on and not data.get("suppressed_until"):
            data["suppressed_until"] = default_suppressed_until(kind, occurred_on)
            self.instance.suppressed_until = data["suppressed_until"]
        return data


@admin.register(SensitiveEvent)
class SensitiveEventAdmin(CustomerScopedAdmin):
    form = SensitiveEventForm
    list_display = (
        "occurred_on",
        "customer",
        "kind",
        "suppressed_until",
        "recorded_by",
        "recorded_at",
    )
    list_select_related = ("customer", "recorded_by")
    list_filter = ("kind",)
    search_fields = ("customer__id",)
    search_help_text = _("A customer's id.")
    sortable_by = ("occurred_on", "suppressed_until")
    list_per_page = 50

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("recorded_by", "recorded_at")
        return ("customer", "kind", "occurred_on", "recorded_by", "recorded_at")

    def get_fields(self, request, obj=None):
        fields = ["customer", "kind", "occurred_on", "suppressed_until", "note"]
        return fields if obj is None else [*fields, "recorded_by", "recorded_at"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "customer":
            kwargs["widget"] = AutocompleteSelect(db_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if not term.isdigit():
            return queryset.none(), False
        return queryset.filter(customer_id=int(term)), False

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            event = sensitive_event_record(
                actor=request.user,
                customer=form.cleaned_data["customer"],
                kind=form.cleaned_data["kind"],
                occurred_on=form.cleaned_data["occurred_on"],
                note=form.cleaned_data.get("note") or "",
                suppressed_until=form.cleaned_data.get("suppressed_until"),
            )
        except ValidationError:
            raise  # the form's clean() checked the same; a race is a server error, not a save
        obj.pk, obj.recorded_by, obj.recorded_at = event.pk, event.recorded_by, event.recorded_at
        obj.suppressed_until = event.suppressed_until
