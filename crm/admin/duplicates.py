"""Supervisors review possible duplicates side by side and merge them, or set them aside."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from crm.admin.scoping import CappedCountPaginator, CustomerScopedAdmin
from crm.duplicates.selectors import customer_owned_counts, duplicate_pair_visibility_q
from crm.masking import mask_email, mask_phone, user_can_see_contact
from crm.models import Customer, CustomerMerge, DuplicatePair
from crm.services.duplicates import duplicate_pair_dismiss
from crm.services.merges import customer_merge

REASON_LABELS = {
    "same_phone": _("same mobile number"),
    "same_email": _("same e-mail"),
    "similar_email_local": _("e-mail alike before the @"),
    "same_birth_date": _("same birth date"),
    "similar_name": _("similar name"),
    "different_name": _("different name"),
    "different_phone": _("different mobile numbers"),
    "different_email": _("different e-mails"),
    "different_birth_date": _("different birth dates"),
}


def reasons_text(reasons: list[dict]) -> list[str]:
    """The reasons as the reviewer reads them: "similar name (93.3)", "same mobile number"."""
    texts = []
    for reason in reasons:
        label = str(REASON_LABELS.get(reason.get("code", ""), reason.get("code", "")))
        if "similarity" in reason:
            label = f"{label} ({reason['similarity']:g})"
        texts.append(label)
    return texts


class StatusFilter(admin.SimpleListFilter):
    """Open pairs unless asked otherwise: the work still to do."""

    title = _("status")
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*DuplicatePair.Status.choices, (self.ALL, _("All"))]

    def choices(self, changelist):
        value = self.value() or DuplicatePair.Status.OPEN
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or DuplicatePair.Status.OPEN
        if value == self.ALL:
            return queryset
        return queryset.filter(status=value)


@admin.register(DuplicatePair)
class DuplicatePairAdmin(admin.ModelAdmin):
    list_display = (
        "score",
        "customer_name",
        "customer_phone",
        "other_name",
        "other_phone",
        "reasons_display",
        "status",
        "found_at",
    )
    list_display_links = ("customer_name", "other_name")
    list_select_related = ("customer", "other")
    list_filter = (StatusFilter,)
    ordering = ("-score", "id")
    sortable_by = ("score", "found_at")
    list_per_page = 50
    paginator = CappedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    actions = ("mark_not_duplicate",)

    def get_queryset(self, request):
        return super().get_queryset(request).filter(duplicate_pair_visibility_q(request.user))

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("customer"))
    def customer_name(self, pair: DuplicatePair) -> str:
        return pair.customer.name

    @admin.display(description=_("mobile phone"))
    def customer_phone(self, pair: DuplicatePair) -> str:
        return mask_phone(pair.customer.phone)

    @admin.display(description=_("possible duplicate"))
    def other_name(self, pair: DuplicatePair) -> str:
        return pair.other.name

    @admin.display(description=_("mobile phone"))
    def other_phone(self, pair: DuplicatePair) -> str:
        return mask_phone(pair.other.phone)

    @admin.display(description=_("reasons"))
    def reasons_display(self, pair: DuplicatePair) -> str:
        return format_html_join(", ", "{}", ((text,) for text in reasons_text(pair.reasons)))

    @admin.action(description=_("Not a duplicate"), permissions=["change"])
    def mark_not_duplicate(self, request, queryset):
        done = 0
        # At most one page of pairs, each decided in its own transaction by the service.
        for pair_id in queryset.filter(status=DuplicatePair.Status.OPEN).values_list(
            "pk", flat=True
        )[: self.list_per_page]:
            duplicate_pair_dismiss(actor=request.user, pair_id=pair_id)
            done += 1
        message = ngettext(
            "%(count)d pair marked as not a duplicate.",
            "%(count)d pairs marked as not a duplicate.",
            done,
        )
        self.message_user(request, message % {"count": done}, messages.SUCCESS)

    # --- The review page and its two POST actions ----------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/merge/",
                wrap(require_POST(self.merge_view)),
                name="{}_{}_merge".format(*info),
            ),
            path(
                "<path:object_id>/not-duplicate/",
                wrap(require_POST(self.not_duplicate_view)),
                name="{}_{}_not_duplicate".format(*info),
            ),
            *super().get_urls(),
        ]

    def _visible_pair(self, request, object_id) -> DuplicatePair:
        try:
            return get_object_or_404(
                self.get_queryset(request).select_related(
                    "customer__owner", "customer__team", "other__owner", "other__team"
                ),
                pk=int(object_id),
            )
        except ValueError as error:
            raise Http404 from error

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The review page: the two customers side by side, with what each owns."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        pair = self._visible_pair(request, object_id)
        left, right = pair.customer, pair.other
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Review a possible duplicate"),
            "pair": pair,
            "reasons": reasons_text(pair.reasons),
            "rows": self._side_by_side(request, left, right),
            "counts": [
                (label, per.get(left.pk, 0), per.get(right.pk, 0))
                for label, per in customer_owned_counts(customer_ids=[left.pk, right.pk])
            ],
            "can_merge": pair.status == DuplicatePair.Status.OPEN
            and request.user.has_perm("crm.merge_customers"),
            "can_dismiss": pair.status == DuplicatePair.Status.OPEN
            and self.has_change_permission(request, pair),
            "left_url": reverse("admin:crm_customer_change", args=[left.pk]),
            "right_url": reverse("admin:crm_customer_change", args=[right.pk]),
        }
        return TemplateResponse(request, "admin/crm/duplicatepair/review.html", context)

    def _side_by_side(self, request, left: Customer, right: Customer) -> list[tuple]:
        contact = user_can_see_contact(request.user)

        def phone(customer: Customer) -> str:
            return str(customer.phone or "") if contact else mask_phone(customer.phone)

        def email(customer: Customer) -> str:
            return customer.email if contact else mask_email(customer.email)

        fields = [
            (_("name"), lambda c: c.name),
            (_("kind"), lambda c: c.get_kind_display()),
            (_("mobile phone"), phone),
            (_("e-mail"), email),
            (_("birth date"), lambda c: c.birth_date or ""),
            (_("status"), lambda c: c.get_status_display()),
            (_("relationship manager"), lambda c: c.owner or ""),
            (_("team"), lambda c: c.team or ""),
            (_("created"), lambda c: c.created_at),
        ]
        rows = []
        for label, value in fields:
            a, b = value(left), value(right)
            rows.append((label, a, b, bool(a) and a == b))
        return rows

    def _review_url(self, pair: DuplicatePair) -> str:
        return reverse("admin:crm_duplicatepair_change", args=[pair.pk])

    def merge_view(self, request, object_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        pair = self._visible_pair(request, object_id)
        keep = request.POST.get("keep")
        if keep not in ("left", "right"):
            self.message_user(request, _("Choose which customer to keep."), messages.ERROR)
            return HttpResponseRedirect(self._review_url(pair))
        survivor, merged = (
            (pair.customer, pair.other) if keep == "left" else (pair.other, pair.customer)
        )
        try:
            customer_merge(
                actor=request.user, survivor_id=survivor.pk, merged_id=merged.pk, pair_id=pair.pk
            )
        except Customer.DoesNotExist as error:
            raise Http404 from error
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(self._review_url(pair))
        self.message_user(
            request,
            _("%(merged)s was merged into %(survivor)s.")
            % {"merged": merged.name, "survivor": survivor.name},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:crm_duplicatepair_changelist"))

    def not_duplicate_view(self, request, object_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        pair = self._visible_pair(request, object_id)
        try:
            duplicate_pair_dismiss(actor=request.user, pair_id=pair.pk)
        except DuplicatePair.DoesNotExist as error:
            raise Http404 from error
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(self._review_url(pair))
        self.message_user(request, _("Marked as not a duplicate."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:crm_duplicatepair_changelist"))


@admin.register(CustomerMerge)
class CustomerMergeAdmin(CustomerScopedAdmin):
    """The record of merges, for those who may see the kept customer: read only."""

    customer_path = "survivor__"
    list_display = ("merged_at", "merged", "survivor", "merged_by")
    list_select_related = ("merged", "survivor", "merged_by")
    readonly_fields = ("survivor", "merged", "pair", "moved", "merged_by", "merged_at")
    ordering = ("-merged_at", "-id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
