"""Tier benefits in admin: the catalogue by program and tier (supervisors), each customer's
allowances and uses (scoped like customers), and "Use" from the customer's Benefits panel: a
confirmation with a key made when it is shown, then loyalty.services.benefits."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.admin.forms import form_add_service_errors
from crm.admin.scoping import ReadOnlyRecordAdmin
from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.catalogue import benefits_held
from loyalty.models import Benefit, BenefitAllowance, BenefitUse
from loyalty.services.benefits import NOTE_MAX_LENGTH, benefit_use


@admin.register(Benefit)
class BenefitAdmin(admin.ModelAdmin):
    list_display = (
        "display_name",
        "program",
        "tier",
        "code",
        "quota",
        "period",
        "discount_percent",
        "is_active",
    )
    list_select_related = ("tier__program",)
    list_filter = ("tier__program", "tier__rank", "is_active")
    search_fields = ("code", "name", "name_zh_hans")
    ordering = ("tier__program__code", "tier__rank", "code")
    fields = (
        "tier",
        "code",
        "name",
        "name_zh_hans",
        "quota",
        "period",
        "discount_percent",
        "is_active",
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "tier" in form.base_fields:
            # The tier's label names its program: one query for the choices, not one per tier.
            form.base_fields["tier"].queryset = form.base_fields["tier"].queryset.select_related(
                "program"
            )
        return form

    @admin.display(description=_("name"), ordering="name")
    def display_name(self, benefit: Benefit) -> str:
        return benefit.display_name

    @admin.display(description=_("program"), ordering="tier__program__code")
    def program(self, benefit: Benefit) -> str:
        return str(benefit.tier.program)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # allowances point at it; deactivate instead


@admin.register(BenefitAllowance)
class BenefitAllowanceAdmin(ReadOnlyRecordAdmin):
    list_display = ("customer", "benefit", "period_start", "period_end", "quota", "used")
    list_select_related = ("customer", "benefit__tier__program")
    list_filter = ("benefit__tier__program", "period_start")
    sortable_by = ("period_start",)


class BenefitUseForm(forms.Form):
    note = forms.CharField(
        label=_("note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        help_text=_("For example where or for what the benefit was used."),
    )
    # Made when the page is shown: submitting it twice uses the benefit once.
    key = forms.UUIDField(widget=forms.HiddenInput)


@admin.register(BenefitUse)
class BenefitUseAdmin(ReadOnlyRecordAdmin):
    customer_path = "allowance__customer__"
    list_display = ("used_at", "customer", "benefit", "period", "note", "used_by")
    list_select_related = (
        "allowance__customer",
        "allowance__benefit__tier__program",
        "used_by",
    )
    list_filter = ("allowance__benefit__tier__program",)
    sortable_by = ("used_at",)

    @admin.display(description=_("customer"))
    def customer(self, use: BenefitUse) -> str:
        return str(use.allowance.customer)

    @admin.display(description=_("benefit"))
    def benefit(self, use: BenefitUse) -> str:
        return str(use.allowance.benefit)

    @admin.display(description=_("period"))
    def period(self, use: BenefitUse) -> str:
        return f"{use.allowance.period_start} – {use.allowance.period_end}"

    def get_urls(self):
        return [
            path(
                "use/<int:customer_id>/<int:benefit_id>/",
                self.admin_site.admin_view(self.use_view),
                name="loyalty_benefituse_use",
            ),
            *super().get_urls(),
        ]

    def use_view(self, request: HttpRequest, customer_id: int, benefit_id: int) -> HttpResponse:
        """A confirmation (with what is left this period and a note), then one use."""
        if not request.user.has_perm("loyalty.add_benefituse"):
            raise PermissionDenied
        customer = get_object_or_404(
            Customer.objects.filter(customer_visibility_q(request.user)), pk=customer_id
        )
        held = {
            item.benefit.pk: item
            for item in benefits_held(customer_id=customer.pk, as_of=timezone.localdate())
        }
        item = held.get(benefit_id)
        if item is None or item.is_discount:
            raise Http404
        customer_page = reverse("admin:crm_customer_change", args=[customer.pk])
        form = BenefitUseForm(request.POST or None, initial={"key": uuid.uuid4()})
        if request.method == "POST" and form.is_valid():
            try:
                benefit_use(
                    actor=request.user,
                    customer=customer,
                    benefit=item.benefit,
                    key=f"admin:{form.cleaned_data['key']}",
                    note=form.cleaned_data["note"],
                )
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                self.message_user(
                    request,
                    _("%(benefit)s used for %(customer)s.")
                    % {"benefit": item.benefit.display_name, "customer": customer},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(customer_page)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Use a benefit"),
            "customer": customer,
            "customer_page": customer_page,
            "item": item,
            "form": form,
        }
        return TemplateResponse(request, "admin/loyalty/benefituse/use_confirmation.html", context)
