"""CSV and XLSX exports from the admin lists (django-import-export), safe to open in Excel.

- Scoped: an export holds the rows of the list it starts from (its filters and search), through
  the admin's `get_queryset`, so an RM exports only their own customers.
- Masked: phones and e-mails as in the list, unless the user may see them whole.
- Never a formula: `crm.spreadsheets.spreadsheet_safe` on every cell. The library's own
  `IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT` only strips one leading "=", which leaves "==..."
  a formula and "+", "-", "@" untouched; it stays on as a second belt.
- Capped: at most `CRM_EXPORT_MAX_ROWS` rows, streamed from the database in chunks; the export
  page says when the list is longer, and so does a message after the download.
"""

from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources
from import_export.admin import ExportMixin
from import_export.formats import base_formats
from import_export.forms import SelectableFieldsExportForm

from crm.masking import mask_email, mask_phone, user_can_see_contact
from crm.models import Customer, Transaction
from crm.spreadsheets import spreadsheet_safe


def export_row_limit() -> int:
    return settings.CRM_EXPORT_MAX_ROWS


class SafeExportResource(resources.ModelResource):
    """Every cell through `spreadsheet_safe`; phones and e-mails masked unless allowed; at most
    `row_limit` rows."""

    def __init__(self, *, can_see_contact: bool = False, row_limit: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.can_see_contact = can_see_contact
        self.row_limit = row_limit
        self.is_capped = False

    def get_export_headers(self, selected_fields=None):
        return [spreadsheet_safe(h) for h in super().get_export_headers(selected_fields)]

    def export_resource(self, instance, selected_fields=None, **kwargs):
        # Text for XLSX too: the formula escape turns every cell into text anyway (str() of
        # a datetime would keep its microseconds); the widgets' own formats read better.
        kwargs.pop("force_native_type", None)
        row = super().export_resource(instance, selected_fields, **kwargs)
        return [spreadsheet_safe(cell) for cell in row]

    def iter_queryset(self, queryset):
        if self.row_limit is None:
            yield from super().iter_queryset(queryset)
            return
        # One row past the limit tells that the list was longer, without a COUNT(*).
        for index, row in enumerate(super().iter_queryset(queryset[: self.row_limit + 1])):
            if index == self.row_limit:
                self.is_capped = True
                return
            yield row

    def contact_phone(self, phone: object) -> str:
        if not phone:
            return ""
        return str(phone) if self.can_see_contact else mask_phone(phone)

    def contact_email(self, email: str) -> str:
        if not email:
            return ""
        return email if self.can_see_contact else mask_email(email)


class CustomerExportResource(SafeExportResource):
    owner = fields.Field(attribute="owner__username", column_name="owner")
    team = fields.Field(attribute="team__name", column_name="team")

    class Meta:
        model = Customer
        name = _("Customers")
        fields = (
            "id",
            "kind",
            "name",
            "phone",
            "email",
            "birth_date",
            "is_student",
            "status",
            "owner",
            "team",
            "created_at",
        )
        export_order = fields

    def dehydrate_phone(self, customer: Customer) -> str:
        return self.contact_phone(customer.phone)

    def dehydrate_email(self, customer: Customer) -> str:
        return self.contact_email(customer.email)


class TransactionExportResource(SafeExportResource):
    # Ids from the row itself: rendering the related objects would load each one (N+1).
    customer = fields.Field(attribute="customer_id", column_name="customer")
    customer_name = fields.Field(attribute="customer__name", column_name="customer_name")
    refund_of = fields.Field(attribute="refund_of_id", column_name="refund_of")

    class Meta:
        model = Transaction
        name = _("Transactions")
        fields = (
            "id",
            "occurred_at",
            "customer",
            "customer_name",
            "kind",
            "amount",
            "currency",
            "category",
            "channel",
            "payment_method",
            "merchant",
            "source",
            "external_id",
            "refund_of",
        )
        export_order = fields


class ScopedExportMixin(ExportMixin):
    """Export only (imports go through import jobs), in CSV and XLSX, of the list as filtered.

    Put it before the admin class that scopes `get_queryset`: the export's rows come from the
    changelist's queryset.
    """

    # With a BOM, Excel on a Chinese Windows opens UTF-8 CSV without garbling the names.
    to_encoding = "utf-8-sig"
    export_form_class = SelectableFieldsExportForm

    def get_export_formats(self):
        return [base_formats.CSV, base_formats.XLSX]

    def has_export_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def get_export_resource_kwargs(self, request, **kwargs):
        return {
            "can_see_contact": user_can_see_contact(request.user),
            "row_limit": export_row_limit(),
        }

    def get_valid_export_item_pks(self, request):
        # Only the admin action posts a list of ids; this admin has no such action, so a
        # posted list is refused (the library's default would load every id of the table).
        return []

    def get_data_for_export(self, request, queryset, **kwargs):
        export_form = kwargs.get("export_form")
        resource_class = self.choose_export_resource_class(export_form, request)
        resource = resource_class(**self.get_export_resource_kwargs(request))
        data = resource.export(
            queryset=queryset,
            export_fields=self.get_export_resource_fields_from_form(export_form),
            **kwargs,
        )
        if resource.is_capped:
            messages.warning(request, self.capped_message())
        return data

    def capped_message(self) -> str:
        return str(
            _(
                "The export holds the first %(limit)s rows only: the list is longer. "
                "Filter or search the list to export the rest in parts."
            )
            % {"limit": f"{export_row_limit():,}"}
        )

    def init_request_context_data(self, request, form):
        context = super().init_request_context_data(request, form)
        limit = export_row_limit()
        # A bounded count: at most limit + 1 rows are looked at.
        rows = self.get_export_queryset(request).order_by()[: limit + 1].count()
        if rows > limit:
            note = self.capped_message()
        else:
            note = str(
                _("%(rows)s rows will be exported, as the list is filtered now.")
                % {"rows": f"{rows:,}"}
            )
        form.fields["format"].help_text = note
        context["export_row_note"] = note
        return context
