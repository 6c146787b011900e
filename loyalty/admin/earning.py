"""Earning rules in admin, and the "Preview earning" page: what would a transaction earn, and
why, line by line, with the rules as saved (loyalty.earning.preview)."""

from datetime import datetime

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Customer, Source, Transaction
from crm.selectors import customer_visibility_q
from loyalty.earning.preview import earning_preview
from loyalty.models import EarningRule, Program

PREVIEW_PERMISSION = "loyalty.change_earningrule"


@admin.register(EarningRule)
class EarningRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "program", "kind", "is_active", "valid_from", "valid_until")
    list_select_related = ("program",)
    list_filter = ("program", "kind", "is_active")
    search_fields = ("name",)
    ordering = ("program", "kind", "id")
    change_list_template = "admin/loyalty/earningrule/change_list.html"
    preview_template = "admin/loyalty/earningrule/preview.html"
    fieldsets = (
        (None, {"fields": ("program", "kind", "name", "is_active", "valid_from", "valid_until")}),
        (
            _("What it applies to"),
            {
                "fields": (
                    "transaction_kind",
                    "source",
                    "category",
                    "tier",
                    "weekday",
                    "starts_at",
                    "ends_at",
                    "min_amount",
                    "interaction_kind",
                )
            },
        ),
        (_("What it gives"), {"fields": ("points_per_unit", "multiplier", "points")}),
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "tier":
            kwargs["queryset"] = db_field.related_model.objects.select_related("program")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "preview/",
                self.admin_site.admin_view(self.preview_view),
                name="{}_{}_preview".format(*info),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_preview": request.user.has_perm(PREVIEW_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def preview_view(self, request):
        if not request.user.has_perm(PREVIEW_PERMISSION):
            raise PermissionDenied
        form = EarningPreviewForm(request.GET or None, user=request.user)
        preview = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            preview = earning_preview(
                program_id=data["program"].pk,
                amount=data["amount"],
                kind=data["kind"],
                category=data["category"],
                source=data["source"],
                occurred_at=timezone.make_aware(datetime.combine(data["date"], data["time"])),
                customer=data["customer"],
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Preview earning"),
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, self.preview_template, context)


class EarningPreviewForm(forms.Form):
    program = forms.ModelChoiceField(label=_("program"), queryset=Program.objects.all())
    amount = forms.DecimalField(label=_("amount"), max_digits=14, decimal_places=2, min_value=0)
    kind = forms.ChoiceField(
        label=_("kind"), choices=Transaction.Kind.choices, initial=Transaction.Kind.PURCHASE
    )
    category = forms.ChoiceField(
        label=_("category"),
        choices=[("", "---------"), *Transaction.Category.choices],
        required=False,
    )
    source = forms.ChoiceField(
        label=_("source"), choices=[("", "---------"), *Source.choices], required=False
    )
    date = forms.DateField(label=_("local date"), widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label=_("local time"), widget=forms.TimeInput(attrs={"type": "time"}))
    customer = forms.ModelChoiceField(
        label=_("customer"),
        queryset=Customer.objects.none(),
        required=False,
        widget=forms.NumberInput,
        help_text=_(
            "Optional, by id: their tier, whether this is their first purchase, and what they "
            "earned that day count."
        ),
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Only a customer the user may see: another one is "not a valid choice", like none.
        self.fields["customer"].queryset = Customer.objects.filter(customer_visibility_q(user))
