"""Memberships, their history and the evaluation runs: written by the evaluation only."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import ReadOnlyRecordAdmin
from loyalty.models import DowngradeWarning, EvaluationRun, Membership, MembershipChange
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
