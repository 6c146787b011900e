"""Service tickets in admin, for the agents who work them and the supervisors who watch them.

The list is every ticket the user may see, open ones first, the nearest SLA deadline first;
"My tickets" and "My team's tickets" are that list filtered (assignee = me; the teams the user
supervises or belongs to). The nearer of the two deadlines is a column the database computes
(`Ticket.sla_due_at`), indexed with the team and the assignee, so sorting by "SLA left" happens
in the database and reads only the page's rows. Every change goes through the ticket services
(workflows.tickets.services): the status buttons on the change page, the notes and replies,
the attachments and the bulk actions "assign to" and "change status", which report per ticket
what the state machine refused and change nothing for it. Attachments are served by a view
that checks the user may see the ticket, as downloads, never from MEDIA_URL.

Supervisors also keep the routing rules, SLA policies, business calendars and agents here, and
read the reports (workflows.tickets.reports) from the list.
"""

from datetime import datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from crm.admin.scoping import CustomerScopedAdmin
from crm.models import TeamMembership
from crm.selectors import (
    User,
    user_supervised_team_ids,
)
from workflows.models import (
    AgentProfile,
    BusinessCalendar,
    CalendarDay,
    RoutingRule,
    SlaPolicy,
    Ticket,
    TicketAttachment,
    TicketNote,
)
from workflows.selectors import user_supervises
from workflows.tickets.selectors import ticket_visibility_q
from workflows.tickets.states import allowed_next

HISTORY_ROWS_SHOWN = 20
NOTES_SHOWN = 200
BULK_LIMIT = 500

OPEN = [Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING]
RUNNING = [Ticket.Status.NEW, Ticket.Status.OPEN]  # the clock stops while waiting


def user_team_ids(user: User) -> list[int]:
    """ "My team": the teams the user supervises, else the teams they belong to."""
    supervised = user_supervised_team_ids(user)
    if supervised:
        return supervised
    return list(TeamMembership.objects.filter(user_id=user.pk).values_list("team_id", flat=True))


def breached_q(now: datetime) -> Q:
    """Breached: marked by the watcher, or running past its deadline before it ran."""
    return (
        Q(response_breached_at__isnull=False)
        | Q(resolution_breached_at__isnull=False)
        | Q(status__in=RUNNING, sla_due_at__lt=now)
    )


def ticket_admin_queryset(queryset: QuerySet[Ticket], *, now: datetime) -> QuerySet[Ticket]:
    """The list's computed column, in SQL: breached or not (the due deadline is a column)."""
    return queryset.annotate(
        _is_breached=Case(
            When(breached_q(now), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
    )


def duration_text(minutes: int) -> str:
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return gettext("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": mins}
    return gettext("%(minutes)s min") % {"minutes": mins}


def sla_left_text(*, status: str, due: datetime | None, now: datetime) -> str:
    """ "2 h 10 min", "breached 35 min ago", "paused" (waiting on the customer), or "–"."""
    if status == Ticket.Status.WAITING:
        return gettext("paused")
    if status not in RUNNING or due is None:
        return "–"
    seconds = (due - now).total_seconds()
    if seconds >= 0:
        return duration_text(int(seconds // 60))
    return gettext("breached %(duration)s ago") % {"duration": duration_text(int(-seconds // 60))}


# --- The list's filters ---------------------------------------------------------------------


class TeamFilter(admin.SimpleListFilter):
    title = _("team")
    parameter_name = "team"

    def lookups(self, request, model_admin):
        return [("mine", _("My team's tickets"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(team_id__in=user_team_ids(request.user))
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        return [("me", _("Me")), ("none", _("Unassigned"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee_id=request.user.pk)
        if self.value() == "none":
            return queryset.filter(assignee__isnull=True)
        return queryset


class BreachedFilter(admin.SimpleListFilter):
    title = _("SLA breached")
    parameter_name = "breached"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(_is_breached=self.value() == "yes")
        return queryset


# --- Forms ----------------------------------------------------------------------------------


class AgentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        profile = user.agent_profile
        away = gettext(" (away)") if profile.is_away else ""
        name = user.get_full_name() or user.get_username()
        return f"{name} · {profile.get_department_display()}{away}"


def agent_queryset():
    return (
        get_user_model()
        .objects.filter(is_active=True, agent_profile__isnull=False)
        .select_related("agent_profile")
        .order_by("agent_profile__department", "username")
    )


class AssignForm(forms.Form):
    assignee = AgentChoiceField(label=_("Assign to"), queryset=agent_queryset())


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"), choices=Ticket.Status.choices)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"), choices=TicketNote.Kind.choices, initial=TicketNote.Kind.INTERNAL
    )
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 4}))


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))


# --- Tickets --------------------------------------------------------------------------------


@admin.register(Ticket)
class TicketAdmin(SimpleHistoryAdmin, CustomerScopedAdmin):
    change_list_template = "admin/workflows/ticket/change_list.html"
    change_form_template = "admin/workflows/ticket/change_form.html"
    list_display = (
        "id",
        "subject",
        "customer_link",
        "department",
        "category",
        "priority",
        "status",
        "assignee",
        "sla_left",
    )
    list_display_links = ("id", "subject")
    list_select_related = ("customer", "assignee")
    list_filter = (
        AssigneeFilter,
        TeamFilter,
        "status",
        "priority",
        "department",
        BreachedFilter,
    )
    search_fields = ("subject",)  # get_search_results says how
    search_help_text = _(
        "A ticket's number or external id, part of its subject, or a customer's name."
    )
    list_per_page = 50
    actions = ("assign_selected", "change_status_selected")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "subject",
                    "description",
                    "customer_link",
                    "department",
                    "category",
                    "priority",
                    "status",
                    "channel",
                    "assignee",
                    "team",
                    "external_id",
                    "parent",
                    "created_at",
                    "created_by",
                )
            },
        ),
        (
            _("SLA"),
            {
                "fields": (
                    "sla_left",
                    "sla_policy",
                    "calendar",
                    "first_response_due_at",
                    "first_responded_at",
                    "first_response_business_minutes",
                    "resolution_due_at",
                    "waiting_since",
                    "resolved_at",
                    "resolution_business_minutes",
                    "closed_at",
                    "reopened_count",
                    "response_warned_at",
                    "resolution_warned_at",
                    "response_breached_at",
                    "resolution_breached_at",
                    "escalated_at",
                    "survey_invitation",
                )
            },
        ),
    )
    # Every change goes through a service (buttons, forms and actions below), never this form.
    readonly_fields = tuple(field for _title, options in fieldsets for field in options["fields"])

    def get_queryset(self, request):
        return ticket_admin_queryset(
            admin.ModelAdmin.get_queryset(self, request).filter(ticket_visibility_q(request.user)),
            now=timezone.now(),
        )

    def get_ordering(self, request):
        # The order of the ticket_team_sla and ticket_assignee_sla indexes.
        return [F("is_open").desc(), F("sla_due_at").asc(nulls_last=True), "-id"]

    def has_add_permission(self, request) -> bool:
        return False  # tickets are opened through ticket_create (the API, the call centre)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def revert_disabled(self, request, obj=None) -> bool:
        return True  # a revert would skip the state machine and the timeline

    # -- columns --

    @admin.display(description=_("customer"), ordering="customer__name")
    def customer_link(self, ticket: Ticket) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:crm_customer_change", args=[ticket.customer_id]),
            ticket.customer.name,
        )

    @admin.display(description=_("SLA left"), ordering=F("sla_due_at").asc(nulls_last=True))
    def sla_left(self, ticket: Ticket) -> str:
        return sla_left_text(status=ticket.status, due=ticket.sla_due_at, now=timezone.now())

    # -- search --

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.lstrip("#").isdigit():
            number = int(term.lstrip("#"))
            return queryset.filter(Q(pk=number) | Q(external_id=term)), False
        return (
            queryset.filter(
                Q(external_id=term) | Q(subject__icontains=term) | Q(customer__name__icontains=term)
            ),
            False,
        )

    # -- the list page --

    def may_view_reports(self, request) -> bool:
        return self.has_view_permission(request) and user_supervises(request.user)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_view_reports": self.may_view_reports(request),
            "is_supervisor": bool(user_supervised_team_ids(request.user)),
        }
        return super().changelist_view(request, extra_context)

    # -- bulk actions --

    def _apply(self, request, tickets, change, done_message) -> None:
        """Each ticket through the service, in its own savepoint: one refused ticket changes
        nothing and leaves the others done; what was refused is said per ticket."""
        done = 0
        for ticket in tickets:
            try:
                with transaction.atomic():
                    change(ticket)
            except ValidationError as error:
                self.message_user(
                    request,
                    gettext("#%(id)s not changed: %(reason)s")
                    % {"id": ticket.pk, "reason": " ".join(error.messages)},
                    messages.WARNING,
                )
            else:
                done += 1
                self.log_change(request, ticket, [{"changed": {"fields": []}}])
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)

    def _selected(self, request, queryset) -> list[Ticket] | None:
        tickets = list(queryset.select_related("customer", "assignee")[: BULK_LIMIT + 1])
        if len(tickets) > BULK_LIMIT:
            self.message_user(
                request,
                gettext("Choose at most %(limit)s tickets at once.") % {"limit": BULK_LIMIT},
                messages.ERROR,
            )
            return None
        return tickets

    def _action_page(self, request, *, tickets, form, action, title):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "tickets": tickets,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/workflows/ticket/bulk_action.html", context)

    @admin.action(description=_("Assign the selected tickets to…"), permissions=["change"])
    def assign_selected(self, request, queryset):
        from workflows.tickets.services import ticket_assign_to

        tickets = self._selected(request, queryset)
        if tickets is None:
            return None
        form = AssignForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            assignee = form.cleaned_data["assignee"]
            self._apply(
                request,
                tickets,
                lambda ticket: ticket_assign_to(ticket=ticket, assignee=assignee, by=request.user),
                gettext("%(count)s ticket(s) assigned."),
            )
            return None
        return self._action_page(
            request,
            tickets=tickets,
            form=form,
            action="assign_selected",
            title=_("Assign tickets"),
        )

    @admin.action(
        description=_("Change the status of the selected tickets…"), permissions=["change"]
    )
    def change_status_selected(self, request, queryset):
        from workflows.tickets.services import ticket_transition

        tickets = self._selected(request, queryset)
        if tickets is None:
            return None
        form = StatusForm(request.POST if "confirm" in request.POST else None)
        if form.is_valid():
            to_status, note = form.cleaned_data["to_status"], form.cleaned_data["note"]
            self._apply(
                request,
                tickets,
                lambda ticket: ticket_transition(
                    ticket=ticket, to_status=to_status, by=request.user, note=note
                ),
                gettext("%(count)s ticket(s) changed."),
            )
            return None
        return self._action_page(
            request,
            tickets=tickets,
            form=form,
            action="change_status_selected",
            title=_("Change the status of tickets"),
        )

    # -- the change page --

    def _url_name(self, view: str) -> str:
        return f"admin:workflows_ticket_{view}"

    def _change_url(self, object_id) -> str:
        return reverse(self._url_name("change"), args=[object_id])

    def change_view_context(self, request, object_id) -> dict:
        ticket = self.get_queryset(request).get(pk=object_id)
        may_change = self.has_change_permission(request, ticket)
        return {
            "transitions": [
                (status, Ticket.Status(status).label)
                for status in allowed_next(ticket, now=timezone.now())
            ]
            if may_change
            else [],
            "transition_url": reverse(self._url_name("transition"), args=[ticket.pk]),
            "notes": list(
                TicketNote.objects.filter(ticket_id=ticket.pk)
                .select_related("author")
                .order_by("created_at", "id")[:NOTES_SHOWN]
            ),
            "note_form": NoteForm() if may_change else None,
            "note_url": reverse(self._url_name("note"), args=[ticket.pk]),
            "attachments": [
                (item, reverse(self._url_name("attachment"), args=[ticket.pk, item.pk]))
                for item in TicketAttachment.objects.filter(ticket_id=ticket.pk)
                .select_related("uploaded_by")
                .order_by("uploaded_at", "id")
            ],
            "attachment_form": AttachmentForm() if may_change else None,
            "attachment_url": reverse(self._url_name("attach"), args=[ticket.pk]),
            "ticket_history": ticket.history.select_related("history_user", "assignee").order_by(
                "-history_date", "-history_id"
            )[:HISTORY_ROWS_SHOWN],
        }

    def history_view(self, request, object_id, extra_context=None):
        self.ensure_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self.ensure_visible(request, object_id)
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("reports/", wrap(self.reports_view), name="workflows_ticket_reports"),
            path(
                "<int:object_id>/transition/",
                wrap(require_POST(self.transition_view)),
                name="workflows_ticket_transition",
            ),
            path(
                "<int:object_id>/notes/add/",
                wrap(require_POST(self.note_view)),
                name="workflows_ticket_note",
            ),
            path(
                "<int:object_id>/attachments/add/",
                wrap(require_POST(self.attach_view)),
                name="workflows_ticket_attach",
            ),
            path(
                "<int:object_id>/attachments/<int:attachment_id>/",
                wrap(self.attachment_view),
                name="workflows_ticket_attachment",
            ),
            *super().get_urls(),
        ]

    def _ticket_to_change(self, request, object_id) -> Ticket:
        self.ensure_visible(request, object_id)
        ticket = self.get_queryset(request).get(pk=object_id)
        if not self.has_change_permission(request, ticket):
            raise PermissionDenied
        return ticket

    def _say_refused(self, request, error: ValidationError) -> None:
        self.message_user(request, " ".join(error.messages), messages.ERROR)

    def transition_view(self, request, object_id):
        ticket = self._ticket_to_change(request, object_id)
        from workflows.tickets.services import ticket_transition

        form = StatusForm(request.POST)
        if not form.is_valid():
            self.message_user(request, gettext("Choose a status."), messages.ERROR)
            return HttpResponseRedirect(self._change_url(ticket.pk))
        try:
            changed = ticket_transition(
                ticket=ticket,
                to_status=form.cleaned_data["to_status"],
                by=request.user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            self._say_refused(request, error)
        else:
            self.log_change(request, changed, [{"changed": {"fields": ["status"]}}])
            self.message_user(
                request,
                gettext("The ticket is now %(status)s.")
                % {"status": Ticket.Status(changed.status).label},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(self._change_url(ticket.pk))

    def note_view(self, request, object_id):
        ticket = self._ticket_to_change(request, object_id)
        from workflows.tickets.services import ticket_note_add

        form = NoteForm(request.POST)
        if not form.is_valid():
            self.message_user(request, gettext("Write the note's text."), messages.ERROR)
            return HttpResponseRedirect(self._change_url(ticket.pk))
        try:
            ticket_note_add(
                ticket=ticket,
                kind=form.cleaned_data["kind"],
                body=form.cleaned_data["body"],
                author=request.user,
            )
        except ValidationError as error:
            self._say_refused(request, error)
        else:
            self.message_user(request, gettext("Added."), messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(ticket.pk))

    def attach_view(self, request, object_id):
        ticket = self._ticket_to_change(request, object_id)
        from workflows.tickets.services import ticket_attachment_add

        form = AttachmentForm(request.POST, request.FILES)
        if not form.is_valid():
            self.message_user(request, gettext("Choose a file."), messages.ERROR)
            return HttpResponseRedirect(self._change_url(ticket.pk))
        try:
            ticket_attachment_add(
                ticket=ticket, uploaded_file=form.cleaned_data["file"], by=request.user
            )
        except ValidationError as error:
            self._say_refused(request, error)
        else:
            self.message_user(request, gettext("The file is attached."), messages.SUCCESS)
        return HttpResponseRedirect(self._change_url(ticket.pk))

    def attachment_view(self, request, object_id, attachment_id):
        """The file as a download, for those who may see the ticket; 404 for the others."""
        self.ensure_visible(request, object_id)
        if not self.has_view_permission(request):
            raise PermissionDenied
        attachment = get_object_or_404(TicketAttachment, pk=attachment_id, ticket_id=object_id)
        try:
            file = attachment.file.open("rb")
        except FileNotFoundError as error:
            raise Http404 from error
        response = FileResponse(
            file,
            as_attachment=True,
            filename=attachment.name,
            content_type=attachment.content_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response

    # -- reports --

    def reports_view(self, request):
        """Tickets per day, SLA attainment, response and resolution times, top categories."""
        from workflows.tickets import reports

        if not self.may_view_reports(request):
            raise PermissionDenied
        first, last = reports.default_range()
        form = ReportsForm(request.GET or {"first": first, "last": last})
        report = None
        if form.is_valid():
            report = reports.ticket_report(
                user=request.user,
                first=form.cleaned_data["first"],
                last=form.cleaned_data["last"],
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Ticket reports"),
            "form": form,
            "report": report,
            "charts": reports.chart_data(report) if report else None,
            "sla_tables": [
                ("department", _("SLA attainment per department"), report.by_department),
                ("agent", _("SLA attainment per agent"), report.by_agent),
                ("priority", _("SLA attainment per priority"), report.by_priority),
            ]
            if report
            else [],
        }
        return TemplateResponse(request, "admin/workflows/ticket/reports.html", context)


class ReportsForm(forms.Form):
    first = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    last = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        from workflows.tickets.reports import MAX_DAYS

        data = super().clean() or {}
        first, last = data.get("first"), data.get("last")
        if first and last:
            if first > last:
                raise forms.ValidationError(_("The first day comes after the last one."))
            if last - first >= timedelta(days=MAX_DAYS):
                raise forms.ValidationError(_("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        return data


# --- What supervisors keep: routing, SLA policies, calendars, agents ------------------------


class SupervisorOnlyAdmin(admin.ModelAdmin):
    """The company's settings for tickets: supervisors (by permission) keep them."""

    def has_module_permission(self, request) -> bool:
        return super().has_module_permission(request) and user_supervises(request.user)

    def _supervises(self, request) -> bool:
        return user_supervises(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._supervises(request) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._supervises(request) and super().has_change_permission(request, obj)

    def has_add_permission(self, request) -> bool:
        return self._supervises(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return self._supervises(request) and super().has_delete_permission(request, obj)


@admin.register(RoutingRule)
class RoutingRuleAdmin(SupervisorOnlyAdmin):
    list_display = ("order", "category", "keywords_short", "department", "is_active")
    list_display_links = ("order", "category")
    list_editable = ("is_active",)
    list_filter = ("department", "category", "is_active")
    ordering = ("order", "id")

    @admin.display(description=_("keywords"))
    def keywords_short(self, rule: RoutingRule) -> str:
        return rule.keywords[:80] or "*"


@admin.register(SlaPolicy)
class SlaPolicyAdmin(SupervisorOnlyAdmin):
    list_display = ("priority", "min_tier_rank", "first_response_minutes", "resolution_minutes")
    list_filter = ("priority",)
    ordering = ("priority", "min_tier_rank")


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1
    fields = ("day", "is_working", "shifts", "note")
    ordering = ("-day",)


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(SupervisorOnlyAdmin):
    list_display = ("name", "shifts", "china_holidays", "is_default")
    filter_horizontal = ("teams",)
    inlines = (CalendarDayInline,)


@admin.register(AgentProfile)
class AgentProfileAdmin(SupervisorOnlyAdmin):
    list_display = ("user", "department", "is_away")
    list_select_related = ("user",)
    list_filter = ("department", "is_away")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)
    actions = ("toggle_away",)

    @admin.action(description=_("Mark away / back"), permissions=["change"])
    def toggle_away(self, request, queryset):
        # One UPDATE whatever the selection: away becomes back and back away.
        changed = queryset.update(
            is_away=Case(When(is_away=True, then=Value(False)), default=Value(True))
        )
        self.message_user(
            request,
            gettext("%(count)s agent(s) changed.") % {"count": changed},
            messages.SUCCESS,
        )
