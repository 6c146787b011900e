"""Admin pieces every customer-related admin shares: visibility scoping and bounded counts."""

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.utils.functional import cached_property

from crm.models import Customer
from crm.selectors import customer_visibility_q, table_row_estimate


class CappedCountPaginator(Paginator):
    """Counts at most `CRM_ADMIN_COUNT_LIMIT` rows, so a list never runs a full COUNT(*).

    Past the cap the list says "more than N" and the pages stop there: deep OFFSETs cost
    seconds at a million rows, and nobody reads page 5,000; they search or filter instead.
    """

    @cached_property
    def count(self) -> int:
        cap = settings.CRM_ADMIN_COUNT_LIMIT
        counted = self.object_list.order_by()[: cap + 1].count()
        self.is_capped = counted > cap
        return min(counted, cap)

    @cached_property
    def estimated_total(self) -> int | None:
        if not getattr(self, "is_capped", False):
            return None
        return table_row_estimate(self.object_list.model)


class CustomerScopedAdmin(admin.ModelAdmin):
    """Shows only rows of customers the user may see; others' rows are 404, never 403.

    `customer_path` is the lookup from this model to its customer ("" for Customer itself).
    """

    customer_path = "customer__"
    paginator = CappedCountPaginator
    show_full_result_count = False
    # Facet counts are one COUNT per filter value over the whole list: not at a million rows.
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(customer_visibility_q(request.user, prefix=self.customer_path))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The form then refuses another RM's customer typed in by id, like an unknown one.
        if db_field.name == "customer":
            kwargs["queryset"] = Customer.objects.filter(customer_visibility_q(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def ensure_visible(self, request, object_id) -> None:
        try:
            visible = self.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, ValidationError):
            visible = False
        if not visible:
            raise Http404

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Django's admin redirects to the index for a missing object; someone else's customer
        # must look exactly like one that does not exist: a 404.
        self.ensure_visible(request, object_id)
        extra_context = {**(extra_context or {}), **self.change_view_context(request, object_id)}
        return super().change_view(request, object_id, form_url, extra_context)

    def change_view_context(self, request, object_id) -> dict:
        """More context for the change page of a row the user may see."""
        return {}

    def delete_view(self, request, object_id, extra_context=None):
        self.ensure_visible(request, object_id)
        return super().delete_view(request, object_id, extra_context)


class ReadOnlyRecordAdmin(CustomerScopedAdmin):
    """Records that other systems send (transactions, balances...): staff read, never edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
