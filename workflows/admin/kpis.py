"""The supervisors' KPI page in admin (Workflows -> Supervisors' KPIs, and a link at the top of
the admin index): the day's cached figures (workflows/kpis/snapshots.py) for a program, team
and tier, with charts and the same numbers in tables.

Supervisors only (the view permission and `user_supervises`); RMs get a 403. A supervisor picks
among the teams they supervise ("all" adds up their teams' figures); those who may see every
customer also get the company-wide figures. The page reads one snapshot row per team shown,
never the customers: a fixed number of queries.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Team
from crm.selectors import user_can_see_all_customers, user_supervised_team_ids
from loyalty.models import Program, Tier
from workflows.kpis import figures as kpi_figures
from workflows.kpis.snapshots import kpi_snapshot_latest
from workflows.models import KpiSnapshot
from workflows.models.kpis import kpi_scope_key
from workflows.selectors import user_supervises

VIEW_PERMISSION = "workflows.view_kpisnapshot"


def user_may_view_kpis(user) -> bool:
    return bool(
        user.is_active
        and user.is_staff
        and user.has_perm(VIEW_PERMISSION)
        and user_supervises(user)
    )


class KpiScopeForm(forms.Form):
    program = forms.TypedChoiceField(
        label=_("Program"), required=False, coerce=int, empty_value=None
    )
    tier = forms.TypedChoiceField(label=_("Tier"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, programs, tiers, teams, all_teams_label, **kwargs):
        super().__init__(*args, **kwargs)
        self.tier_programs = {tier.pk: tier.program_id for tier in tiers}
        names = {program.pk: program.display_name for program in programs}
        self.fields["program"].choices = [("", _("All programs"))] + [
            (program.pk, program.display_name) for program in programs
        ]
        self.fields["tier"].choices = [("", _("All tiers"))] + [
            (tier.pk, f"{names.get(tier.program_id, '')} · {tier.display_name}") for tier in tiers
        ]
        self.fields["team"].choices = [("", all_teams_label)] + [
            (team_id, name) for team_id, name in teams
        ]

    def clean(self):
        data = super().clean() or {}
        tier, program = data.get("tier"), data.get("program")
        if tier is not None:
            if program is not None and self.tier_programs[tier] != program:
                raise forms.ValidationError(
                    _("The tier belongs to another program."), code="tier_of_another_program"
                )
            data["program"] = self.tier_programs[tier]
        return data


@admin.register(KpiSnapshot)
class KpiSnapshotAdmin(admin.ModelAdmin):
    """Only the page: the rows are written by the daily task."""

    def has_module_permission(self, request) -> bool:
        return user_may_view_kpis(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return user_may_view_kpis(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("", wrap(self.dashboard_view), name="workflows_kpisnapshot_changelist"),
            path("dashboard/", wrap(self.dashboard_view), name="workflows_kpisnapshot_dashboard"),
            path("compute/", wrap(self.compute_view), name="workflows_kpisnapshot_compute"),
        ]

    def dashboard_view(self, request):
        user = request.user
        if not user_may_view_kpis(user):
            raise PermissionDenied
        sees_all = user_can_see_all_customers(user)
        supervised = [] if sees_all else user_supervised_team_ids(user)
        teams = Team.objects.order_by("name").values_list("pk", "name")
        if not sees_all:
            teams = teams.filter(pk__in=supervised)
        programs = list(Program.objects.order_by("code"))
        tiers = list(Tier.objects.order_by("program_id", "rank"))
        form = KpiScopeForm(
            request.GET or {},
            programs=programs,
            tiers=tiers,
            teams=list(teams),
            all_teams_label=_("All teams") if sees_all else _("All my teams"),
        )
        snapshot = figures = None
        if form.is_valid():
            program_id = form.cleaned_data["program"]
            tier_id = form.cleaned_data["tier"]
            team_id = form.cleaned_data["team"]
            team_ids = [team_id] if team_id is not None else [None] if sees_all else supervised
            scope_keys = [
                kpi_scope_key(program_id=program_id, team_id=team, tier_id=tier_id)
                for team in team_ids
            ]
            snapshot = kpi_snapshot_latest(scope_keys=scope_keys) if scope_keys else None
            if snapshot is not None:
                figures = kpi_figures.figures_from_payload(
                    snapshot.payload, tier_labels=_tier_labels(programs, tiers)
                )
        today = timezone.localdate()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Supervisors' KPIs"),
            "form": form,
            "snapshot": snapshot,
            "figures": figures,
            "help": kpi_figures.HELP,
            "charts": kpi_figures.chart_data(figures) if figures else None,
            "is_today": snapshot is not None and snapshot.day == today,
            "can_compute": snapshot is None or snapshot.day != today,
            "compute_url": reverse("admin:workflows_kpisnapshot_compute"),
        }
        return TemplateResponse(request, "admin/workflows/kpisnapshot/dashboard.html", context)

    def compute_view(self, request):
        """Compute now: today's figures in the background (the daily task, at once)."""
        if not user_may_view_kpis(request.user):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        from workflows.tasks import compute_kpis_task

        day = timezone.localdate().isoformat()
        transaction.on_commit(lambda: compute_kpis_task.delay(day=day))
        self.message_user(
            request,
            _("Today's figures are being computed; reload the page in a few minutes."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:workflows_kpisnapshot_dashboard"))


def _tier_labels(programs: list[Program], tiers: list[Tier]) -> dict[int, str]:
    names = {program.pk: program.display_name for program in programs}
    return {tier.pk: f"{names.get(tier.program_id, '')} · {tier.display_name}" for tier in tiers}
