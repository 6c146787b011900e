"""The points ledger in admin: accounts and entries to read, adjustments to request and decide.

Accounts and entries are read only for everyone (the ledger is written by its services alone),
scoped by crm's visibility rule, with capped counts: entries run to millions of rows. An
adjustment is filed through a form that calls loyalty.services.adjustments; a supervisor who
did not file it approves or rejects it on its page (four eyes are the service's to enforce).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from crm.admin.forms import form_add_service_errors, form_page_context
from crm.admin.scoping import CustomerScopedAdmin, ReadOnlyRecordAdmin
from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.models import PointsAccount, PointsAdjustment, PointsEntry, Program
from loyalty.services.adjustments import (
    adjustment_approve,
    adjustment_needs_approval,
    adjustment_reject,
    adjustment_request,
)


def _customer_link(customer: Customer) -> str:
    url = reverse("admin:crm_customer_change", args=[customer.pk])
    return format_html('<a href="{}">{}</a>', url, customer)


class NegativeBalanceFilter(admin.SimpleListFilter):
    title = _("balance")
    parameter_name = "balance"

    def lookups(self, request, model_admin):
        return [("negative", _("Negative")), ("positive", _("Positive")), ("zero", _("Zero"))]

    def queryset(self, request, queryset):
        lookup = {"negative": "balance__lt", "positive": "balance__gt", "zero": "balance"}.get(
            self.value() or ""
        )
        return queryset.filter(**{lookup: 0}) if lookup else queryset


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyRecordAdmin):
    """Balances are the ledger's cached totals (verify_ledger proves them); nothing is edited."""

    list_display = ("customer_link", "program", "balance", "created_at", "entries_link")
    list_select_related = ("customer", "program")
    list_filter = (NegativeBalanceFilter, "program")
    sortable_by = ("balance", "created_at")
    list_per_page = 50
    fields = ("customer", "program", "balance", "created_at")

    @admin.display(description=_("customer"))
    def customer_link(self, account: PointsAccount) -> str:
        return _customer_link(account.customer)

    @admin.display(description=_("entries"))
    def entries_link(self, account: PointsAccount) -> str:
        url = reverse("admin:loyalty_pointsentry_changelist")
        return format_html(
            '<a href="{}?account__id__exact={}">{}</a>', url, account.pk, _("entries")
        )


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyRecordAdmin):
    """Append-only: a mistake is corrected by a new entry (an adjustment), never by an edit."""

    customer_path = "account__customer__"
    list_display = (
        "id",
        "created_at",
        "customer_link",
        "program",
        "kind",
        "points",
        "note",
        "occurred_on",
        "expires_on",
    )
    list_select_related = ("account__customer", "account__program")
    list_filter = ("kind", "account__program")
    sortable_by = ()
    list_per_page = 50
    fields = (
        "account",
        "kind",
        "points",
        "note",
        "occurred_on",
        "expires_on",
        "transaction_id",
        "reverses",
        "details",
        "key",
        "created_by",
        "created_at",
    )
    # The customer's page links here with the customer (or an account) as the filter.
    allowed_lookups = ("account__customer__id__exact", "account__id__exact")

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if lookup in self.allowed_lookups:
            return True
        return super().lookup_allowed(lookup, value, request)

    @admin.display(description=_("customer"))
    def customer_link(self, entry: PointsEntry) -> str:
        return _customer_link(entry.account.customer)

    @admin.display(description=_("program"))
    def program(self, entry: PointsEntry) -> str:
        return str(entry.account.program)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("account__customer", "account__program")


# --- Adjustments ------------------------------------------------------------------------------


class AdjustmentRequestForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.objects.none())
    program = forms.ModelChoiceField(
        label=_("program"), queryset=Program.objects.filter(is_active=True)
    )
    points = forms.IntegerField(
        label=_("points"),
        help_text=_("Positive adds points, negative removes them (never below zero)."),
    )
    reason = forms.CharField(
        label=_("reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the points change; kept with the entry."),
    )

    def __init__(self, *args, user, admin_site, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        customer = self.fields["customer"]
        customer.widget = AutocompleteSelect(PointsAccount._meta.get_field("customer"), admin_site)
        customer.queryset = Customer.objects.filter(customer_visibility_q(user))


class AdjustmentDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], label=_("decision")
    )
    note = forms.CharField(label=_("note"), required=False, max_length=2000)


@admin.register(PointsAdjustment)
class PointsAdjustmentAdmin(CustomerScopedAdmin):
    customer_path = "account__customer__"
    change_form_template = "admin/loyalty/pointsadjustment/change_form.html"
    request_form_template = "admin/loyalty/pointsadjustment/request_form.html"
    list_display = (
        "requested_at",
        "customer_link",
        "program",
        "points",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
    )
    list_select_related = ("account__customer", "account__program", "requested_by", "decided_by")
    list_filter = ("status", "account__program")
    sortable_by = ("requested_at", "decided_at")
    fieldsets = (
        (_("Request"), {"fields": ("account", "points", "reason", "requested_by", "requested_at")}),
        (
            _("Decision"),
            {"fields": ("status", "decided_by", "decided_at", "decision_note", "entry")},
        ),
    )
    readonly_fields = tuple(name for _title, box in fieldsets for name in box["fields"])

    @admin.display(description=_("customer"))
    def customer_link(self, adjustment: PointsAdjustment) -> str:
        return _customer_link(adjustment.account.customer)

    @admin.display(description=_("program"))
    def program(self, adjustment: PointsAdjustment) -> str:
        return str(adjustment.account.program)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("account__customer", "account__program", "requested_by", "decided_by")
        )

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # decisions have their own view

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # requests are records

    def has_decide_permission(self, request) -> bool:
        return request.user.has_perm("loyalty.approve_pointsadjustment")

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:object_id>/decide/",
                self.admin_site.admin_view(require_POST(self.decide_view)),
                name="{}_{}_decide".format(*info),
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """The request form ("Adjust points" on the customer's page opens it with the
        customer chosen); the service applies a small one at once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {}
        if request.method == "GET" and request.GET.get("customer", "").isdigit():
            initial["customer"] = request.GET["customer"]
        form = AdjustmentRequestForm(
            request.POST or None, initial=initial, user=request.user, admin_site=self.admin_site
        )
        if request.method == "POST" and form.is_valid():
            try:
                adjustment = adjustment_request(actor=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                self.log_addition(request, adjustment, [{"added": {}}])
                if adjustment.status == PointsAdjustment.Status.APPLIED:
                    message = _("The points were adjusted.")
                else:
                    message = _("The adjustment waits for another person's approval.")
                self.message_user(request, message, messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(adjustment))
        context = form_page_context(
            self, request, title=_("Adjust points"), form=form, **(extra_context or {})
        )
        return TemplateResponse(request, self.request_form_template, context)

    def change_view_context(self, request, object_id) -> dict:
        adjustment = self.get_queryset(request).get(pk=object_id)
        is_own = adjustment.requested_by_id == request.user.pk
        return {
            "may_decide": adjustment.status == PointsAdjustment.Status.PENDING
            and self.has_decide_permission(request)
            and not is_own,
            "needs_approval": adjustment_needs_approval(adjustment.points),
            "is_own_request": is_own,
            "decide_url": reverse(self._url_name("decide"), args=[adjustment.pk]),
        }

    def history_view(self, request, object_id, extra_context=None):
        self.ensure_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def decide_view(self, request, object_id):
        self.ensure_visible(request, object_id)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        form = AdjustmentDecisionForm(request.POST)
        url = reverse(self._url_name("change"), args=[object_id])
        if not form.is_valid():
            self.message_user(request, _("Choose to approve or reject."), messages.ERROR)
            return HttpResponseRedirect(url)
        approve = form.cleaned_data["decision"] == "approve"
        decide = adjustment_approve if approve else adjustment_reject
        try:
            decided = decide(
                adjustment_id=object_id, approver=request.user, note=form.cleaned_data["note"]
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(url)
        self.log_change(request, decided, [{"changed": {"fields": ["status"]}}])
        message = _("Approved: the points were adjusted.") if approve else _("Rejected.")
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(url)

    def _url_name(self, view: str) -> str:
        return f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}"

    def _change_url(self, adjustment: PointsAdjustment) -> str:
        return reverse(self._url_name("change"), args=[adjustment.pk])
