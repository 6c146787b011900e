"""Experience officers in admin: the terms (scoped to the customers the user may see), an
"Invite from a segment" page for supervisors (one set-based insert, workflows.feedback.officers)
and an action that ends the selected terms."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin.forms import form_page_context
from crm.admin.scoping import CustomerScopedAdmin
from crm.models import Segment
from workflows.feedback.officers import officer_terms_end, officers_invite
from workflows.models import ExperienceOfficer
from workflows.selectors import user_supervises


class InviteOfficersForm(forms.Form):
    segment = forms.ModelChoiceField(
        label=_("Segment"),
        queryset=Segment.objects.order_by("name"),
        help_text=_(
            "Every customer of the segment becomes an experience officer; customers who are "
            "one already are skipped."
        ),
    )


@admin.register(ExperienceOfficer)
class ExperienceOfficerAdmin(CustomerScopedAdmin):
    change_list_template = "admin/workflows/experienceofficer/change_list.html"
    list_display = ("customer", "is_active", "segment", "invited_at", "invited_by")
    list_select_related = ("customer", "segment", "invited_by")
    list_filter = ("is_active", ("invited_at", DateFieldListFilter))
    search_fields = ("customer__id",)
    search_help_text = _("A customer's id.")
    actions = ("end_terms",)
    fields = ("customer", "is_active", "segment", "invited_at", "invited_by")
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        # Officers are invited from a segment (the invite page), not added one by one.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def may_invite(self, request) -> bool:
        return request.user.has_perm("workflows.add_experienceofficer") and user_supervises(
            request.user
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if not term.isdigit():
            return queryset.none(), False
        return queryset.filter(customer_id=int(term)), False

    @admin.action(description=_("End the selected officers' terms"), permissions=["change"])
    def end_terms(self, request, queryset) -> None:
        ended = officer_terms_end(officer_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d term ended.", "%(count)d terms ended.", ended) % {"count": ended},
            messages.SUCCESS if ended else messages.WARNING,
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_invite": self.may_invite(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "invite/",
                self.admin_site.admin_view(self.invite_view),
                name="workflows_experienceofficer_invite",
            ),
            *super().get_urls(),
        ]

    def invite_view(self, request):
        if not self.may_invite(request):
            raise PermissionDenied
        form = InviteOfficersForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            segment = form.cleaned_data["segment"]
            invited = officers_invite(segment=segment, invited_by=request.user)
            self.message_user(
                request,
                ngettext(
                    "%(count)d customer of %(segment)s is now an experience officer.",
                    "%(count)d customers of %(segment)s are now experience officers.",
                    invited,
                )
                % {"count": invited, "segment": segment.name},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:workflows_experienceofficer_changelist"))
        context = form_page_context(
            self, request, title=_("Invite experience officers from a segment"), form=form
        )
        return TemplateResponse(request, "admin/workflows/experienceofficer/invite.html", context)
