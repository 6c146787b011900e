"""What customers own and do, as other systems send it: read in admin, scoped like customers."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from crm.admin.exports import ScopedExportMixin, TransactionExportResource
from crm.admin.scoping import CustomerScopedAdmin, ReadOnlyRecordAdmin
from crm.models import (
    BalanceSnapshot,
    CreditEvent,
    Interaction,
    ProductHolding,
    SourceRecord,
    Transaction,
)
from crm.signals import interactions_stored


@admin.register(Transaction)
class TransactionAdmin(ScopedExportMixin, ReadOnlyRecordAdmin):
    resource_classes = (TransactionExportResource,)
    list_display = (
        "occurred_at",
        "customer",
        "kind",
        "amount",
        "currency",
        "category",
        "channel",
        "merchant",
    )
    list_select_related = ("customer",)
    list_filter = ("kind", "category", "channel", "payment_method", "source")
    search_fields = ("=external_id",)
    search_help_text = _("The transaction's id in its source system.")
    sortable_by = ("occurred_at",)
    raw_id_fields = ("customer", "refund_of")


@admin.register(BalanceSnapshot)
class BalanceSnapshotAdmin(ReadOnlyRecordAdmin):
    list_display = ("date", "customer", "amount", "currency")
    list_select_related = ("customer",)
    sortable_by = ("date",)
    raw_id_fields = ("customer",)


@admin.register(ProductHolding)
class ProductHoldingAdmin(ReadOnlyRecordAdmin):
    list_display = ("product_name", "customer", "product_type", "amount", "opened_on", "closed_on")
    list_select_related = ("customer",)
    list_filter = ("product_type",)
    search_fields = ("=external_id",)
    raw_id_fields = ("customer",)


@admin.register(SourceRecord)
class SourceRecordAdmin(ReadOnlyRecordAdmin):
    list_display = ("external_id", "source", "customer", "created_at")
    list_select_related = ("customer",)
    list_filter = ("source",)
    search_fields = ("=external_id",)
    raw_id_fields = ("customer",)


@admin.register(CreditEvent)
class CreditEventAdmin(CustomerScopedAdmin):
    list_display = ("occurred_at", "customer", "kind", "severity", "resolved_at")
    list_select_related = ("customer",)
    list_filter = ("kind", "severity")
    raw_id_fields = ("customer",)


@admin.register(Interaction)
class InteractionAdmin(CustomerScopedAdmin):
    list_display = ("occurred_at", "customer", "kind", "summary", "staff")
    list_select_related = ("customer", "staff")
    list_filter = ("kind",)
    raw_id_fields = ("customer",)
    readonly_fields = ("staff",)

    def save_model(self, request, obj, form, change):
        if obj.staff_id is None:
            obj.staff = request.user
        super().save_model(request, obj, form, change)
        # In the admin's transaction: a review's bonus points commit with it.
        interactions_stored.send(sender=Interaction, interaction_ids=[obj.pk])
