"""The outbox in admin: messages (read-only: a message is never edited by hand), the RM's call
tasks with their "Done" action, and the refusals report ("why did this customer not get it").

Every list is scoped through crm's visibility rule (an RM sees their customers' messages, a
supervisor their teams'), with capped counts and no facets: the table grows by campaigns.
"""

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import DateFieldListFilter
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm.admin.scoping import CustomerScopedAdmin
from crm.masking import mask_email, mask_phone, user_can_see_contact
from workflows.models import Message
from workflows.models.outbox import Channel
from workflows.selectors import call_tasks_open_q, refusals_by_reason, user_supervises
from workflows.services.calls import call_tasks_complete

MAX_REPORT_DAYS = 366


class CallTaskFilter(admin.SimpleListFilter):
    title = _("call tasks")
    parameter_name = "call_tasks"

    def lookups(self, request, model_admin):
        return [("open", _("Open call tasks"))]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(call_tasks_open_q(request.user))
        return queryset


@admin.register(Message)
class MessageAdmin(CustomerScopedAdmin):
    change_list_template = "admin/workflows/message/change_list.html"
    list_display = (
        "created_at",
        "customer",
        "channel",
        "purpose",
        "state",
        "refusal",
        "masked_recipient",
        "assigned_to",
        "completed_at",
    )
    list_select_related = ("customer", "assigned_to")
    list_filter = (
        CallTaskFilter,
        "state",
        "channel",
        "purpose",
        "refusal",
        ("created_at", DateFieldListFilter),
    )
    search_fields = ("customer__id",)
    search_help_text = _("A customer's id.")
    sortable_by = ("created_at",)
    list_per_page = 50
    actions = ("mark_call_done",)
    fields = (
        "customer",
        "channel",
        "purpose",
        "offer_kind",
        "occasion",
        "key",
        "template",
        "language",
        "masked_recipient",
        "subject",
        "body",
        "state",
        "refusal",
        "not_before",
        "expires_at",
        "attempts",
        "claimed_at",
        "sent_at",
        "provider_id",
        "error",
        "assigned_to",
        "completed_at",
        "created_by",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_complete_permission(self, request) -> bool:
        return request.user.has_perm("workflows.change_message")

    @admin.display(description=_("recipient"))
    def masked_recipient(self, message: Message) -> str:
        return _recipient_shown(message, getattr(message, "_can_see_contact", False))

    def get_object(self, request, object_id, from_field=None):
        message = super().get_object(request, object_id, from_field)
        if message is not None:
            message._can_see_contact = user_can_see_contact(request.user)
        return message

    def get_list_display(self, request):
        # The admin instance is shared between threads: the user's right travels in a closure.
        can_see = user_can_see_contact(request.user)

        @admin.display(description=_("recipient"))
        def recipient(message: Message) -> str:
            return _recipient_shown(message, can_see)

        return [recipient if name == "masked_recipient" else name for name in self.list_display]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if not term.isdigit():
            return queryset.none(), False
        return queryset.filter(customer_id=int(term)), False

    @admin.action(description=_("Done: the call is made"), permissions=["complete"])
    def mark_call_done(self, request, queryset):
        done = call_tasks_complete(
            actor=request.user, message_ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(
            request,
            ngettext("%(count)d call task done.", "%(count)d call tasks done.", done)
            % {"count": done},
            messages.SUCCESS if done else messages.WARNING,
        )

    def get_urls(self):
        return [
            path(
                "refusals/",
                self.admin_site.admin_view(self.refusals_view),
                name="workflows_message_refusals",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_view_refusals": user_supervises(request.user),
        }
        return super().changelist_view(request, extra_context)

    def refusals_view(self, request: HttpRequest) -> HttpResponse:
        """Refusals by reason and channel over a date range, for supervisors."""
        if not (self.has_view_permission(request) and user_supervises(request.user)):
            raise PermissionDenied
        today = timezone.localdate()
        form = DateRangeForm(request.GET or {"first": today - timedelta(days=29), "last": today})
        rows: list[dict] = []
        if form.is_valid():
            first, last = form.cleaned_data["first"], form.cleaned_data["last"]
            start, end = _local_midnight(first), _local_midnight(last + timedelta(days=1))
            changelist = reverse("admin:workflows_message_changelist")
            for row in refusals_by_reason(user=request.user, start=start, end=end):
                query = {
                    "state__exact": Message.State.REFUSED,
                    "refusal__exact": row["refusal"],
                    "channel__exact": row["channel"],
                    # Aware, as the date filter's own links: the local days of the report.
                    "created_at__gte": str(start),
                    "created_at__lt": str(end),
                }
                rows.append(
                    {
                        "refusal": Message.Refusal(row["refusal"]).label,
                        "channel": Channel(row["channel"]).label,
                        "count": row["count"],
                        "url": f"{changelist}?{urlencode(query)}",
                    }
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Why customers did not get messages"),
            "form": form,
            "rows": rows,
            "total": sum(row["count"] for row in rows),
        }
        return TemplateResponse(request, "admin/workflows/message/refusals.html", context)


class DateRangeForm(forms.Form):
    first = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                raise forms.ValidationError(_("The first day comes after the last one."))
            if (last - first).days >= MAX_REPORT_DAYS:
                raise forms.ValidationError(
                    _("Choose at most %(days)s days.") % {"days": MAX_REPORT_DAYS}
                )
        return data


def _recipient_shown(message: Message, can_see_contact: bool) -> str:
    if can_see_contact:
        return message.recipient
    if "@" in message.recipient:
        return mask_email(message.recipient)
    return mask_phone(message.recipient)


def _local_midnight(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
