"""Referrals in admin: an RM records that their customer referred another (both must be
theirs to see); the list shows referrals whose referrer or referred the user may see."""

from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import CappedCountPaginator
from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.models import Referral
from loyalty.services.referrals import referral_record


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "program",
        "referrer",
        "referred",
        "qualifying_transaction",
        "commission_points",
    )
    list_select_related = ("program", "referrer", "referred", "commission_entry")
    list_filter = ("program",)
    raw_id_fields = ("referrer", "referred")
    fields = ("program", "referrer", "referred")
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        user = request.user
        return (
            super()
            .get_queryset(request)
            .filter(
                Q(customer_visibility_q(user, prefix="referrer__"))
                | Q(customer_visibility_q(user, prefix="referred__"))
            )
        )

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj is not None else ()

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in ("referrer", "referred"):
            kwargs["queryset"] = Customer.objects.filter(customer_visibility_q(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("commission"))
    def commission_points(self, obj: Referral):
        return obj.commission_entry.points if obj.commission_entry_id else "—"

    def save_model(self, request, obj, form, change):
        """Through the service. The form has checked the same already: both customers come from
        the visible ones, and the model's constraints (not oneself, once per program)."""
        created = referral_record(
            program=obj.program,
            referrer=obj.referrer,
            referred=obj.referred,
            recorded_by=request.user,
        )
        obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at
        obj._state.adding = False
