"""Memberships, their history and the evaluation runs: written by the evaluation only."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import ReadOnlyRecordAdmin
from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.models import (
    DowngradeWarning,
    EvaluationRun,
    Membership,
    MembershipChange,
    Program,
)
from loyalty.services.evaluation import customer_evaluate


@admin.register(Membership)
class MembershipAdmin(ReadOnlyRecordAdmin):
    """Tiers are written by the evaluation only; supervisors may evaluate a customer now."""

    list_display = ("customer", "program", "tier", "since", "months_under_ratio")
    list_select_related = ("customer", "program", "tier__program")
    list_filter = ("program", "tier")
    sortable_by = ("since",)
    raw_id_fields = ("customer",)
    actions = ("evaluate_now",)

    def has_evaluate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("loyalty.change_membership")

    def get_urls(self):
        return [
            path(
                "evaluate/<int:customer_id>/<int:program_id>/",
                self.admin_site.admin_view(self.evaluate_customer_view),
                name="loyalty_membership_evaluate",
            ),
            *super().get_urls(),
        ]

    def evaluate_customer_view(
        self, request: HttpRequest, customer_id: int, program_id: int
    ) -> HttpResponse:
        """ "Evaluate now" from the customer's page: a confirmation, then the evaluation of
        that one customer, and back to the customer's page."""
        if not self.has_evaluate_permission(request):
            raise PermissionDenied
        customer = get_object_or_404(
            Customer.objects.filter(customer_visibility_q(request.user)), pk=customer_id
        )
        program = get_object_or_404(Program, pk=program_id, is_active=True)
        customer_page = reverse("admin:crm_customer_change", args=[customer.pk])
        if request.method == "POST":
            change = customer_evaluate(
                program_id=program.pk, customer_id=customer.pk, actor=request.user
            )
            if change is None:
                message = _("%(program)s: no change of tier.") % {"program": program}
            else:
                message = _("%(program)s: now %(tier)s.") % {
                    "program": program,
                    "tier": change.to_tier.display_name,
                }
            self.message_user(request, message, messages.SUCCESS)
            return HttpResponseRedirect(customer_page)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Evaluate now"),
            "customer": customer,
            "program": program,
            "customer_page": customer_page,
            "opts": self.opts,
        }
        return TemplateResponse(
            request, "admin/loyalty/membership/evaluate_confirmation.html", context
        )

    @admin.action(description=_("Evaluate the selected customers now"), permissions=["evaluate"])
    def evaluate_now(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        changed = 0
        for membership in queryset.order_by("pk")[:MAX_EVALUATE_NOW]:
            change = customer_evaluate(
                program_id=membership.program_id,
                customer_id=membership.customer_id,
                actor=request.user,
            )
            changed += change is not None
        self.message_user(
            request,
            _("%(count)s customer(s) changed tier.") % {"count": changed},
            messages.SUCCESS,
        )


MAX_EVALUATE_NOW = 100


@admin.register(MembershipChange)
class MembershipChangeAdmin(ReadOnlyRecordAdmin):
    list_display = (
        "evaluated_on",
        "customer",
        "program",
        "kind",
        "from_tier",
        "to_tier",
        "run",
        "changed_by",
    )
    list_select_related = (
        "customer",
        "program",
        "from_tier__program",
        "to_tier__program",
        "run__program",
        "changed_by",
    )
    list_filter = ("program", "kind", "evaluated_on")
    sortable_by = ("evaluated_on",)
    raw_id_fields = ("customer", "membership", "run")


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = (
        "as_of",
        "program",
        "status",
        "customers_evaluated",
        "memberships_created",
        "upgrades",
        "downgrades",
        "warnings_opened",
        "is_monthly",
        "started_at",
        "finished_at",
    )
    list_select_related = ("program",)
    list_filter = ("program", "status")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DowngradeWarning)
class DowngradeWarningAdmin(ReadOnlyRecordAdmin):
    """Opened and closed by the evaluation; RMs follow their customers' open warnings here."""

    list_display = ("opened_on", "customer", "program", "tier", "deadline", "status", "closed_on")
    list_select_related = ("customer", "program", "tier__program")
    list_filter = ("status", "program")
    sortable_by = ("opened_on", "deadline")
    raw_id_fields = ("customer", "membership", "run")
