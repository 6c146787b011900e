"""Unusual spends: listed for the customer's RM, who accepts or rejects them."""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import CustomerScopedAdmin
from loyalty.models import StabilityFlag
from loyalty.services.stability import stability_flag_accept, stability_flag_reject

# An action reviews at most this many spends at once (a page holds 100).
MAX_REVIEW_AT_ONCE = 200


class RejectForm(forms.Form):
    comment = forms.CharField(
        label=_("Why is the spend rejected?"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
    )


@admin.register(StabilityFlag)
class StabilityFlagAdmin(CustomerScopedAdmin):
    """Flags are written by the nightly check and reviewed through the actions only."""

    list_display = (
        "flagged_on",
        "customer_link",
        "amount",
        "monthly_median",
        "multiple",
        "transaction_occurred_at",
        "status",
        "reviewed_by",
    )
    list_select_related = ("customer", "transaction", "reviewed_by")
    list_filter = ("status",)
    sortable_by = ("flagged_on", "amount", "transaction_occurred_at", "status")
    actions = ("accept_selected", "reject_selected")
    fields = (
        "customer",
        "transaction",
        "amount",
        "monthly_median",
        "flagged_on",
        "status",
        "reviewed_by",
        "reviewed_at",
        "comment",
    )
    readonly_fields = fields

    def get_ordering(self, request: HttpRequest) -> list:
        # Those waiting for review first, then the newest.
        waiting_first = Case(
            When(status=StabilityFlag.Status.PENDING, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        return [waiting_first.asc(), "-flagged_on", "-id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def change_view_context(self, request: HttpRequest, object_id: str) -> dict:
        # Every field is read-only: a review goes through the list's actions.
        return {"show_save": False, "show_save_and_continue": False}

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_link(self, flag: StabilityFlag) -> str:
        url = reverse("admin:crm_customer_change", args=[flag.customer_id])
        return format_html('<a href="{}">{}</a>', url, flag.customer)

    @admin.display(description=_("multiple of the median"))
    def multiple(self, flag: StabilityFlag) -> Decimal:
        return (flag.amount / flag.monthly_median).quantize(Decimal("0.1"))

    @admin.display(description=_("occurred at"), ordering="transaction__occurred_at")
    def transaction_occurred_at(self, flag: StabilityFlag):
        return flag.transaction.occurred_at

    def _pending(self, queryset: QuerySet[StabilityFlag]) -> list[StabilityFlag]:
        return list(
            queryset.filter(status=StabilityFlag.Status.PENDING).order_by("pk")[:MAX_REVIEW_AT_ONCE]
        )

    def _review(self, request: HttpRequest, flags: list[StabilityFlag], review, done) -> None:
        reviewed, refused = 0, []
        for flag in flags:
            try:
                review(flag)
            except ValidationError as error:
                refused.append(f"{flag.customer}: {' '.join(error.messages)}")
            else:
                reviewed += 1
        if reviewed:
            self.message_user(request, done % {"count": reviewed}, messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)
        if not flags:
            self.message_user(
                request, _("None of the selected spends is waiting for review."), messages.WARNING
            )

    @admin.action(description=_("Accept the selected spends (they count)"), permissions=["change"])
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[StabilityFlag]) -> None:
        self._review(
            request,
            self._pending(queryset),
            lambda flag: stability_flag_accept(flag=flag, reviewed_by=request.user),
            _("%(count)s spend(s) accepted."),
        )

    @admin.action(
        description=_("Reject the selected spends (they do not count)"), permissions=["change"]
    )
    def reject_selected(
        self, request: HttpRequest, queryset: QuerySet[StabilityFlag]
    ) -> TemplateResponse | None:
        """A page asks for the reason first; the reason is posted back to this action."""
        form = RejectForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            comment = form.cleaned_data["comment"]
            self._review(
                request,
                self._pending(queryset),
                lambda flag: stability_flag_reject(
                    flag=flag, reviewed_by=request.user, comment=comment
                ),
                _("%(count)s spend(s) rejected."),
            )
            return None
        flags = self._pending(queryset.select_related("customer", "transaction"))
        if not flags:
            self.message_user(
                request, _("None of the selected spends is waiting for review."), messages.WARNING
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Reject unusual spends"),
            "flags": flags,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/loyalty/stabilityflag/reject_selected.html", context
        )
