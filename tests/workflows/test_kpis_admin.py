"""The supervisors' KPI page: supervisors only, their teams' figures only, the latest snapshot
with when it was computed, "compute now" when today's is missing, a fixed number of queries."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from crm.models import TeamMembership
from tests.factories import TeamFactory, UserFactory
from tests.workflows.kpis_data import DAY, NOW, known_kpis
from workflows.kpis.snapshots import kpi_snapshots_compute
from workflows.models import KpiSnapshot
from workflows.tasks import compute_kpis_task

pytestmark = pytest.mark.django_db
PAGE = reverse("admin:workflows_kpisnapshot_dashboard")
COMPUTE = reverse("admin:workflows_kpisnapshot_compute")


@pytest.fixture
def known(time_machine, rm, foreign_rm):
    time_machine.move_to(NOW, tick=False)
    data = known_kpis(owner=rm, foreign_owner=foreign_rm)
    kpi_snapshots_compute(day=DAY)
    return data


def auditor():
    user = UserFactory(username="auditor")
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_all_customers", "view_kpisnapshot"])
    )
    return user


def test_an_rm_is_refused_the_page_and_compute(client, known, rm):
    client.force_login(rm)

    assert client.get(PAGE).status_code == 403
    assert client.post(COMPUTE).status_code == 403


def test_a_supervisor_sees_their_teams_figures_and_when_they_were_computed(
    client, known, supervisor
):
    client.force_login(supervisor)

    response = client.get(PAGE)

    assert response.status_code == 200
    figures = response.context["figures"]
    assert (figures.customers, figures.active_30, figures.buyers) == (5, 2, 4)
    page = response.content.decode()
    assert 'id="kpis-computed"' in page
    assert "Compute now" not in page
    assert "not yet computed" in page  # the predicted CLV's place
    assert 'id="table-cohorts"' in page
    assert 'id="table-sla"' in page


def test_a_supervisor_cannot_pick_another_team(client, known, supervisor, other_team):
    client.force_login(supervisor)

    response = client.get(PAGE, {"team": other_team.pk})

    assert response.status_code == 200
    assert response.context["figures"] is None
    assert "team" in response.context["form"].errors


def test_a_supervisor_of_two_teams_gets_them_added_up(client, known, supervisor, other_team):
    TeamMembership.objects.create(
        team=other_team, user=supervisor, role=TeamMembership.Role.SUPERVISOR
    )
    client.force_login(supervisor)

    both = client.get(PAGE).context["figures"]
    one = client.get(PAGE, {"team": other_team.pk}).context["figures"]

    assert (both.customers, both.buyers) == (6, 5)
    assert (one.customers, one.buyers) == (1, 1)
    assert both.nps_answers == 4  # the anonymous answer is company-wide only


def test_a_tier_picks_its_program_and_a_tier_of_another_program_is_refused(
    client, known, supervisor
):
    bank, shop = known["bank"], known["shop"]
    gold = bank.tiers.get(rank=3)
    client.force_login(supervisor)

    figures = client.get(PAGE, {"tier": gold.pk}).context["figures"]
    refused = client.get(PAGE, {"tier": gold.pk, "program": shop.pk})

    assert (figures.customers, figures.buyers) == (1, 1)
    assert refused.context["figures"] is None
    assert refused.context["form"].non_field_errors()


def test_a_user_who_sees_every_customer_gets_company_wide_figures(client, known):
    user = auditor()
    client.force_login(user)

    figures = client.get(PAGE).context["figures"]

    assert (figures.customers, figures.nps_answers) == (6, 5)


def test_the_latest_snapshot_is_shown_with_compute_now_when_todays_is_missing(
    client, known, supervisor, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(NOW.replace(day=17), tick=False)
    client.force_login(supervisor)

    page = client.get(PAGE)
    assert page.context["snapshot"].day == DAY
    assert "Compute now" in page.content.decode()
    assert client.get(COMPUTE).status_code == 405
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(COMPUTE)

    assert response.status_code == 302
    assert len(callbacks) == 1


def test_compute_now_runs_the_daily_task_for_today(known, team, time_machine):
    time_machine.move_to(NOW.replace(day=17), tick=False)

    compute_kpis_task.run()

    assert KpiSnapshot.objects.filter(day=DAY.replace(day=17)).exists()


def test_no_snapshot_says_so_and_offers_compute_now(client, supervisor, time_machine):
    time_machine.move_to(NOW, tick=False)
    client.force_login(supervisor)

    page = client.get(PAGE).content.decode()

    assert 'id="kpis-none"' in page
    assert "Compute now" in page


def test_the_index_links_the_page_for_supervisors_only(client, supervisor, rm):
    client.force_login(supervisor)
    assert PAGE in client.get(reverse("admin:index")).content.decode()

    client.force_login(rm)
    assert PAGE not in client.get(reverse("admin:index")).content.decode()


def test_the_page_takes_a_fixed_number_of_queries(
    client, known, supervisor, django_assert_num_queries
):
    client.force_login(supervisor)
    client.get(PAGE)  # warm the content types and permissions caches
    with django_assert_num_queries(9) as first:
        client.get(PAGE)

    for number in range(5):  # five more teams of theirs: five more snapshot rows, one query
        TeamMembership.objects.create(
            team=TeamFactory(name=f"Team {number}"),
            user=supervisor,
            role=TeamMembership.Role.SUPERVISOR,
        )
    kpi_snapshots_compute(day=DAY)
    with django_assert_num_queries(len(first)):
        client.get(PAGE)
