"""Admin: the export and erasure pages of a customer, the requests and the access log."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.admin.scoping import CustomerScopedAdmin
from crm.masking import user_can_see_contact
from crm.models import Customer
from crm.privacy.export import customer_export_pieces
from crm.privacy.forms import ErasureConfirmForm, PrivacyRequestForm
from crm.privacy.models import CustomerAccessLog, PrivacyRequest
from crm.privacy.services import (
    customer_access_record,
    customer_erasure_confirm,
    customer_erasure_request,
    customer_export_record,
    privacy_request_cancel,
)


class CustomerPrivacyAdminMixin:
    """On the customer admin: every view of a change page is logged (one INSERT), and the
    export and erasure pages. Put it before `CustomerScopedAdmin`: its `ensure_visible` makes
    another RM's customer a 404 here too."""

    def get_urls(self):
        wrap = self.admin_site.admin_view  # type: ignore[attr-defined]
        return [
            path(
                "<int:object_id>/privacy/export/",
                wrap(self.privacy_export_view),
                name="crm_customer_privacy_export",
            ),
            path(
                "<int:object_id>/privacy/erase/",
                wrap(self.privacy_erase_view),
                name="crm_customer_privacy_erase",
            ),
            path(
                "<int:object_id>/privacy/erase/<int:request_id>/",
                wrap(self.privacy_erase_confirm_view),
                name="crm_customer_privacy_erase_confirm",
            ),
            *super().get_urls(),  # type: ignore[misc]
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        if request.method == "GET" and response.status_code == 200:
            customer_access_record(
                user=request.user, customer_id=int(object_id), action=CustomerAccessLog.Action.VIEW
            )
        return response

    def _privacy_customer(self, request, object_id: int, permission: str) -> Customer:
        if not request.user.has_perm(permission):
            raise PermissionDenied
        self.ensure_visible(request, object_id)  # type: ignore[attr-defined]
        return Customer.objects.get(pk=object_id)

    def _privacy_page(self, request, customer: Customer, template: str, **context: Any):
        return TemplateResponse(
            request,
            template,
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "opts": Customer._meta,
                "customer": customer,
                "change_page": reverse("admin:crm_customer_change", args=[customer.pk]),
                **context,
            },
        )

    def privacy_export_view(self, request, object_id: int):
        """GET: the form (day received, reference). POST (with CSRF): the request is recorded
        and the answer is the file, streamed."""
        customer = self._privacy_customer(request, object_id, "crm.export_customer_data")
        form = PrivacyRequestForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                record = customer_export_record(
                    actor=request.user,
                    customer=customer,
                    received_on=form.cleaned_data["received_on"],
                    reference=form.cleaned_data["reference"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return _export_response(request, customer_id=customer.pk, record=record)
        return self._privacy_page(
            request,
            customer,
            "admin/crm/customer/privacy_export.html",
            form=form,
            title=_("Export the customer's data"),
        )

    def privacy_erase_view(self, request, object_id: int):
        """The first step: the request recorded; the second page confirms it."""
        customer = self._privacy_customer(request, object_id, "crm.erase_customer")
        form = PrivacyRequestForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            try:
                record = customer_erasure_request(
                    actor=request.user,
                    customer=customer,
                    received_on=form.cleaned_data["received_on"],
                    reference=form.cleaned_data["reference"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return HttpResponseRedirect(
                    reverse(
                        "admin:crm_customer_privacy_erase_confirm", args=[customer.pk, record.pk]
                    )
                )
        return self._privacy_page(
            request,
            customer,
            "admin/crm/customer/privacy_erase.html",
            form=form,
            title=_("Erase the customer's personal data"),
        )

    def privacy_erase_confirm_view(self, request, object_id: int, request_id: int):
        customer = self._privacy_customer(request, object_id, "crm.erase_customer")
        record = get_object_or_404(
            PrivacyRequest, pk=request_id, customer=customer, kind=PrivacyRequest.Kind.ERASURE
        )
        form = ErasureConfirmForm(request.POST if request.method == "POST" else None)
        change_page = reverse("admin:crm_customer_change", args=[customer.pk])
        if request.method == "POST" and "cancel" in request.POST:
            try:
                privacy_request_cancel(request_id=record.pk, actor=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.info(request, _("The erasure request was cancelled."))
            return HttpResponseRedirect(change_page)
        if request.method == "POST" and form.is_valid():
            try:
                customer_erasure_confirm(request_id=record.pk, actor=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _("The customer's personal data was erased (request #%(id)s).")
                    % {"id": record.pk},
                )
            return HttpResponseRedirect(change_page)
        return self._privacy_page(
            request,
            customer,
            "admin/crm/customer/privacy_erase_confirm.html",
            form=form,
            record=record,
            title=_("Confirm the erasure"),
        )


def _export_response(request, *, customer_id: int, record: PrivacyRequest) -> StreamingHttpResponse:
    header = {
        "request_id": record.pk,
        "generated_at": timezone.now().isoformat(),
        "generated_by": request.user.get_username(),
        "contact_masked": not user_can_see_contact(request.user),
    }
    response = StreamingHttpResponse(
        customer_export_pieces(
            customer_id=customer_id,
            header=header,
            show_contact=user_can_see_contact(request.user),
        ),
        content_type="application/json; charset=utf-8",
    )
    # No personal data in the name: the customer's id and the request's.
    response["Content-Disposition"] = (
        f'attachment; filename="customer-{customer_id}-request-{record.pk}.json"'
    )
    response["Cache-Control"] = "no-store"
    return response


class StaffUserFilter(admin.SimpleListFilter):
    title = _("user")
    parameter_name = "user"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [(user.pk, user.get_username()) for user in users]

    def queryset(self, request, queryset):
        if self.value() and str(self.value()).isdigit():
            return queryset.filter(user_id=self.value())
        return queryset


@admin.register(CustomerAccessLog)
class CustomerAccessLogAdmin(CustomerScopedAdmin):
    """Who opened which customer, when: for supervisors (their teams' customers) and
    compliance (everyone's, with `crm.view_all_customers`). Nobody edits it."""

    list_display = ("at", "user", "customer", "action")
    list_select_related = ("user", "customer")
    list_filter = ("action", StaffUserFilter, ("at", admin.DateFieldListFilter))
    sortable_by = ("at",)
    raw_id_fields = ("customer", "user")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(CustomerScopedAdmin):
    """Every export and erasure asked for; read-only once done or cancelled. Requests are made
    from the customer's page."""

    list_display = (
        "created_at",
        "customer",
        "kind",
        "status",
        "received_on",
        "reference",
        "requested_by",
        "done_at",
        "done_by",
    )
    list_select_related = ("customer", "requested_by", "done_by")
    list_filter = ("kind", "status")
    sortable_by = ("created_at",)
    raw_id_fields = ("customer",)
    fields = (
        "customer",
        "kind",
        "status",
        "received_on",
        "reference",
        "requested_by",
        "created_at",
        "done_at",
        "done_by",
        "summary",
    )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status == PrivacyRequest.Status.PENDING:
            return tuple(f for f in self.fields if f not in ("received_on", "reference"))
        return self.fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status != PrivacyRequest.Status.PENDING:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
