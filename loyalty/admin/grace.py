"""Grace periods in admin: an RM files a request with evidence files, a supervisor of the team
approves or rejects it on its page, and everyone who may see it reads the decision there.

Every write goes through loyalty.services.grace; the model form never saves a grace period.
Evidence files are streamed by this admin to those who may see the request, never served from
MEDIA_URL.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.views.decorators.http import require_POST

from crm.admin.forms import form_add_service_errors, form_page_context
from crm.admin.scoping import CustomerScopedAdmin
from crm.models import Customer
from crm.selectors import customer_visibility_q
from loyalty.models import GraceEvidence, GracePeriod, Program
from loyalty.selectors import user_may_decide_grace_period
from loyalty.services.grace import (
    grace_period_approve,
    grace_period_reject,
    grace_period_request,
)

HISTORY_ROWS_SHOWN = 20


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); cleans to a list."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single_file_clean = super().clean
        if isinstance(data, list | tuple):
            return [single_file_clean(item, initial) for item in data]
        return [single_file_clean(data, initial)] if data else []


class GracePeriodRequestForm(forms.Form):
    """What the RM fills in; the service checks it all again, and the files by content."""

    customer = forms.ModelChoiceField(label=_("customer"), queryset=Customer.objects.none())
    program = forms.ModelChoiceField(
        label=_("program"), queryset=Program.objects.filter(is_active=True)
    )
    months = forms.TypedChoiceField(
        label=_("months"),
        coerce=int,
        choices=[
            (
                months,
                ngettext_lazy("%(count)d month", "%(count)d months", months) % {"count": months},
            )
            for months in range(GracePeriod.MIN_MONTHS, GracePeriod.MAX_MONTHS + 1)
        ],
    )
    reason = forms.ChoiceField(label=_("reason"), choices=GracePeriod.Reason.choices)
    explanation = forms.CharField(
        label=_("explanation"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required when the reason is “other”."),
    )
    files = MultipleFileField(
        label=_("evidence files"),
        required=False,  # the service says how many are needed, with the limits
    )

    def __init__(self, *args, user, admin_site, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        customer = self.fields["customer"]
        # Searches through the customer admin, which shows the user's customers only. The widget
        # comes first: setting the queryset hands the widget its choices.
        customer.widget = AutocompleteSelect(GracePeriod._meta.get_field("customer"), admin_site)
        customer.queryset = Customer.objects.filter(customer_visibility_q(user))
        self.fields["files"].help_text = _(
            "PDF, JPEG or PNG files (a doctor's letter, a statement of the loss...): "
            "at least 1, at most %(count)s, each at most %(size)s."
        ) % {
            "count": settings.LOYALTY_GRACE_MAX_FILES,
            "size": filesizeformat(settings.LOYALTY_GRACE_MAX_FILE_BYTES),
        }


class GraceDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", _("Approve")), ("reject", _("Reject"))], label=_("decision")
    )
    comment = forms.CharField(label=_("comment"), required=False, max_length=2000)


@admin.register(GracePeriod)
class GracePeriodAdmin(CustomerScopedAdmin):
    change_form_template = "admin/loyalty/graceperiod/change_form.html"
    request_form_template = "admin/loyalty/graceperiod/request_form.html"
    list_display = (
        "requested_at",
        "customer",
        "program",
        "months",
        "reason",
        "status",
        "requested_by",
        "decided_by",
        "starts_on",
        "ends_on",
    )
    list_select_related = ("customer", "program", "requested_by", "decided_by")
    list_filter = ("status", "program")
    sortable_by = ("requested_at", "starts_on", "ends_on")
    fieldsets = (
        (
            _("Request"),
            {
                "fields": (
                    "customer",
                    "program",
                    "months",
                    "reason",
                    "explanation",
                    "requested_by",
                    "requested_at",
                )
            },
        ),
        (
            _("Decision"),
            {
                "fields": (
                    "status",
                    "decided_by",
                    "decided_at",
                    "decision_comment",
                    "starts_on",
                    "ends_on",
                )
            },
        ),
    )
    # Only the services write a grace period: the page itself is read only for everyone.
    readonly_fields = tuple(name for _title, box in fieldsets for name in box["fields"])

    def get_queryset(self, request):
        # The change page shows all four as links.
        return (
            super()
            .get_queryset(request)
            .select_related("customer", "program", "requested_by", "decided_by")
        )

    # --- Permissions --------------------------------------------------------------------------

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # decisions have their own view; nothing else changes by hand

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # requests and their evidence are records

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("loyalty.change_graceperiod")

    # --- Views --------------------------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:object_id>/decide/",
                wrap(require_POST(self.decide_view)),
                name="{}_{}_decide".format(*info),
            ),
            path(
                "<int:object_id>/evidence/<int:evidence_id>/",
                wrap(self.evidence_view),
                name="{}_{}_evidence".format(*info),
            ),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """The RM's request form: the service files the request and its evidence, or says
        what is wrong with each field."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = GracePeriodRequestForm(
            request.POST or None,
            request.FILES or None,
            user=request.user,
            admin_site=self.admin_site,
        )
        if request.method == "POST" and form.is_valid():
            try:
                grace_period = grace_period_request(requested_by=request.user, **form.cleaned_data)
            except ValidationError as error:
                form_add_service_errors(form, error)
            else:
                self.log_addition(request, grace_period, [{"added": {}}])
                self.message_user(
                    request,
                    _("The request was filed; a supervisor of the team will decide on it."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(grace_period))
        context = form_page_context(
            self, request, title=_("Request a grace period"), form=form, **(extra_context or {})
        )
        return TemplateResponse(request, self.request_form_template, context)

    def change_view_context(self, request, object_id) -> dict:
        grace_period = self.get_queryset(request).get(pk=object_id)
        may_decide = (
            grace_period.status == GracePeriod.Status.PENDING
            and self.has_decide_permission(request)
            and user_may_decide_grace_period(user=request.user, grace_period=grace_period)
        )
        return {
            "evidence": [
                (item, reverse(self._url_name("evidence"), args=[grace_period.pk, item.pk]))
                for item in grace_period.evidence.order_by("id")
            ],
            "history": grace_period.history.select_related("history_user").order_by(
                "-history_date", "-history_id"
            )[:HISTORY_ROWS_SHOWN],
            "may_decide": may_decide,
            "decide_url": reverse(self._url_name("decide"), args=[grace_period.pk]),
            "is_own_request": grace_period.requested_by_id == request.user.pk,
        }

    def history_view(self, request, object_id, extra_context=None):
        self.ensure_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def decide_view(self, request, object_id):
        self.ensure_visible(request, object_id)
        if not self.has_decide_permission(request):
            raise PermissionDenied
        grace_period = self.get_queryset(request).get(pk=object_id)
        form = GraceDecisionForm(request.POST)
        if not form.is_valid():
            self.message_user(request, _("Choose to approve or reject."), messages.ERROR)
            return HttpResponseRedirect(self._change_url(grace_period))
        approve = form.cleaned_data["decision"] == "approve"
        decide = grace_period_approve if approve else grace_period_reject
        try:
            decided = decide(
                grace_period=grace_period,
                decided_by=request.user,
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(self._change_url(grace_period))
        self.log_change(request, decided, [{"changed": {"fields": ["status"]}}])
        if approve:
            message = _("Approved: no downgrade from %(start)s until %(end)s.") % {
                "start": decided.starts_on,
                "end": decided.ends_on,
            }
        else:
            message = _("Rejected.")
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(decided))

    def evidence_view(self, request, object_id, evidence_id):
        """The file as a download, for those who may see the request; 404 for the others."""
        self.ensure_visible(request, object_id)
        if not request.user.has_perm("loyalty.view_graceevidence"):
            raise PermissionDenied
        evidence = get_object_or_404(GraceEvidence, pk=evidence_id, grace_period_id=object_id)
        try:
            file = evidence.file.open("rb")
        except FileNotFoundError as error:
            raise Http404 from error
        response = FileResponse(
            file,
            as_attachment=True,
            filename=evidence.original_name,
            content_type=evidence.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response

    def _url_name(self, view: str) -> str:
        return f"admin:{self.opts.app_label}_{self.opts.model_name}_{view}"

    def _change_url(self, grace_period: GracePeriod) -> str:
        return reverse(self._url_name("change"), args=[grace_period.pk])
