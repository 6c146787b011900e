"""Supervisors' KPIs: every figure against hand-worked values (tests/workflows/kpis_data.py)
in every kind of scope, a fixed number of queries, and a rerun that replaces the day's rows."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from tests.factories import TransactionFactory
from tests.workflows.kpis_data import DAY, NOW, known_kpis
from workflows.feedback.dashboard import nps
from workflows.kpis import figures as kpi_figures
from workflows.kpis import snapshots
from workflows.kpis.snapshots import kpi_snapshots_compute, payloads_compute
from workflows.models import KpiSnapshot
from workflows.models.kpis import kpi_scope_key

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(time_machine, rm, foreign_rm):
    time_machine.move_to(NOW, tick=False)
    return known_kpis(owner=rm, foreign_owner=foreign_rm)


def scope(payloads, *, program=None, team=None, tier=None):
    program_id = program.pk if program else None
    team_id = team.pk if team else None
    tier_id = tier.pk if tier else None
    payload = payloads[(program_id, team_id, tier_id)]
    return kpi_figures.figures_from_payload(payload, tier_labels=_labels())


def _labels():
    from loyalty.models import Tier

    return {tier.pk: tier.name for tier in Tier.objects.order_by("program_id", "rank")}


def test_customer_figures_of_a_team(known, team):
    figures = scope(payloads_compute(day=DAY), team=team)

    assert (figures.customers, figures.active_30, figures.active_90) == (5, 2, 4)
    assert (figures.buyers, figures.repeat_buyers) == (4, 3)
    assert figures.repeat_rate == pytest.approx(75.0)
    assert figures.net_spend == Decimal("750.00")
    assert figures.clv_average == Decimal("187.50")
    assert (figures.retention_base, figures.retained, figures.retention_rate) == (2, 1, 50.0)
    assert figures.predicted_clv_average is None


def test_customer_figures_company_wide(known):
    figures = scope(payloads_compute(day=DAY))

    assert (figures.customers, figures.active_30, figures.active_90) == (6, 3, 5)
    assert (figures.buyers, figures.repeat_buyers) == (5, 3)
    assert figures.net_spend == Decimal("1750.00")
    assert figures.clv_average == Decimal("350.00")


def test_a_program_counts_its_members_and_a_tier_those_in_it_today(known, team):
    payloads = payloads_compute(day=DAY)
    bank = known["bank"]

    in_bank = scope(payloads, program=bank)  # c1, c2, c4, c5
    assert (in_bank.customers, in_bank.active_30, in_bank.buyers) == (4, 3, 3)
    assert in_bank.net_spend == Decimal("1330.00")
    gold = scope(payloads, program=bank, team=team, tier=bank.tiers.get(rank=3))  # c1
    assert (gold.customers, gold.buyers, gold.repeat_buyers) == (1, 1, 1)
    assert gold.clv_average == Decimal("130.00")


def _predicted(values: dict) -> None:
    """Lifetime values as the nightly model (loyalty/clv) leaves them."""
    from loyalty.models import CustomerValue, ValueModelRun

    numbers = dict.fromkeys(
        ["bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "bgnbd_log_likelihood"], 1.0
    )
    numbers |= dict.fromkeys(["gamma_gamma_p", "gamma_gamma_q", "gamma_gamma_v"], 1.0)
    run = ValueModelRun.objects.create(
        as_of=DAY,
        fitted_at=NOW,
        customers=len(values),
        repeat_customers=len(values),
        gamma_gamma_log_likelihood=1.0,
        converged=True,
        horizon_months=12,
        monthly_discount_rate=0.01,
        currency="CNY",
        fit_seconds=0.0,
        score_seconds=0.0,
        **numbers,
    )
    for customer, value in values.items():
        CustomerValue.objects.create(
            customer=customer,
            run=run,
            historical_value=Decimal("1"),
            expected_purchases_90_days=1.0,
            probability_alive=0.5,
            predicted_value=Decimal(value),
        )


def test_predicted_lifetime_value_averages_the_scored_customers_of_the_scope(known, team):
    _predicted({known["c1"]: "300.00", known["c3"]: "100.00", known["c5"]: "1000.00"})
    payloads = payloads_compute(day=DAY)

    assert scope(payloads, team=team).predicted_clv_average == Decimal("200.00")
    assert scope(payloads).predicted_clv_average == Decimal("466.67")
    bank = known["bank"]
    assert scope(payloads, program=bank).predicted_clv_average == Decimal("650.00")
    merged = snapshots.payload_merge([payloads[(None, team.pk, None)]])
    assert merged["predicted_clv"] == {"customers": 2, "total": "400.00"}


def test_cohort_triangle_by_month_of_first_purchase(known, team):
    payloads = payloads_compute(day=DAY)

    cohorts = {row.month.strftime("%Y-%m"): row for row in scope(payloads, team=team).cohorts}
    assert len(cohorts) == 12
    assert cohorts["2026-04"].size == 1
    assert cohorts["2026-04"].counts == [1, 0, 1]
    assert cohorts["2026-04"].shares == [100.0, 0.0, 100.0]
    assert cohorts["2026-02"].counts == [1, 0, 1, 0, 0]
    assert cohorts["2026-01"].counts == [1, 0, 0, 0, 0, 0]
    assert cohorts["2026-06"].size == 0
    assert cohorts["2026-06"].shares == [None]
    assert cohorts["2025-07"].size == 0
    company = {row.month.strftime("%Y-%m"): row for row in scope(payloads).cohorts}
    assert company["2026-06"].counts == [1]


def test_nps_counts_answers_of_the_last_90_days_anonymous_only_company_wide(known, team):
    payloads = payloads_compute(day=DAY)

    in_team = scope(payloads, team=team)
    assert (in_team.nps_answers, in_team.promoters, in_team.detractors) == (3, 1, 1)
    assert in_team.nps == pytest.approx(nps([10, 6, 8]))
    company = scope(payloads)
    assert (company.nps_answers, company.promoters, company.detractors) == (5, 3, 1)
    assert company.nps == pytest.approx(40.0)
    assert scope(payloads, program=known["bank"]).nps == pytest.approx(nps([10, 6, 9]))


def test_points_liability_values_each_programs_points(known, team):
    payloads = payloads_compute(day=DAY)
    bank = known["bank"]

    in_team = scope(payloads, team=team)  # bank c1 1000 + c3 500 at 0.01, shop c1 100 at 0.05
    assert (in_team.liability_accounts, in_team.liability_points) == (3, 1600)
    assert in_team.liability_value == Decimal("20.00")
    assert (in_team.negative_accounts, in_team.negative_points) == (1, -50)
    assert in_team.negative_value == Decimal("-0.50")
    bank_team = scope(payloads, program=bank, team=team)  # c3 is not evaluated yet: counted
    assert (bank_team.liability_points, bank_team.liability_value) == (1500, Decimal("15.00"))
    gold = scope(payloads, program=bank, team=team, tier=bank.tiers.get(rank=3))
    assert (gold.liability_points, gold.liability_value) == (1000, Decimal("10.00"))
    company = scope(payloads)
    assert (company.liability_points, company.liability_value) == (3600, Decimal("40.00"))


def test_tier_distribution_and_movement(known, team):
    payloads = payloads_compute(day=DAY)
    bank = known["bank"]

    in_team = scope(payloads, program=bank, team=team)
    assert [(row.label, row.members) for row in in_team.tiers] == [("Member", 2), ("Gold", 1)]
    company = scope(payloads, program=bank)
    assert [(row.label, row.members) for row in company.tiers] == [
        ("Member", 2),
        ("Silver", 1),
        ("Gold", 1),
    ]
    assert company.tiers[0].share == pytest.approx(50.0)
    months = {m.month.strftime("%Y-%m"): (m.up, m.down, m.joined) for m in in_team.movement}
    assert months["2026-01"] == (0, 0, 1)
    assert months["2026-05"] == (1, 1, 0)
    assert months["2026-06"] == (0, 0, 0)
    assert sum(m.up + m.down + m.joined for m in in_team.movement) == 3
    company_months = {m.month.strftime("%Y-%m"): m.up for m in company.movement}
    assert company_months["2026-06"] == 1
    gold = scope(payloads, program=bank, team=team, tier=bank.tiers.get(rank=3))
    assert sum(m.up for m in gold.movement) == 1
    assert sum(m.down for m in gold.movement) == 0


def test_sla_attainment_of_the_last_30_days(known, team, other_team):
    payloads = payloads_compute(day=DAY)

    in_team = scope(payloads, team=team)
    (department,) = in_team.sla
    assert (department.resolved, department.resolution_due, department.resolution_on_time) == (
        2,
        2,
        1,
    )
    assert (department.response_due, department.response_on_time) == (2, 2)
    assert department.resolution_share == pytest.approx(50.0)
    other = scope(payloads, team=other_team).sla_overall
    assert (other.resolved, other.resolution_on_time, other.response_on_time) == (1, 0, 0)
    company = scope(payloads).sla_overall
    assert (company.resolved, company.resolution_on_time, company.response_on_time) == (3, 1, 2)
    gold = scope(payloads, program=known["bank"], tier=known["bank"].tiers.get(rank=3))
    assert gold.sla_overall.resolved == 1


def test_a_supervisors_teams_add_up_to_the_company_when_every_customer_has_a_team(
    known, team, other_team
):
    payloads = payloads_compute(day=DAY)
    key_a, key_b = (None, team.pk, None), (None, other_team.pk, None)

    merged = snapshots.payload_merge([payloads[key_a], payloads[key_b]])

    company = payloads[(None, None, None)]
    assert merged["customers"] == company["customers"]
    assert merged["cohorts"]["cells"] == company["cohorts"]["cells"]
    assert merged["liability"] == company["liability"]
    assert merged["sla"] == company["sla"]
    assert merged["nps"]["answers"] == company["nps"]["answers"] - 1  # the anonymous answer


def test_figures_take_a_fixed_number_of_queries(known, django_assert_num_queries):
    # programs, tiers, teams; customers, cohorts, NPS, points, tiers, movement, SLA (2),
    # predicted lifetime values
    with django_assert_num_queries(12):
        payloads_compute(day=DAY)
    for _ in range(30):
        TransactionFactory(customer=known["c1"], occurred_at=NOW.replace(month=3))
    with django_assert_num_queries(12):
        payloads_compute(day=DAY)


def test_a_rerun_on_the_same_day_replaces_the_rows(known, team):
    scopes = kpi_snapshots_compute(day=DAY)
    assert KpiSnapshot.objects.filter(day=DAY).count() == scopes
    key = kpi_scope_key(program_id=None, team_id=team.pk, tier_id=None)
    before = KpiSnapshot.objects.get(day=DAY, scope_key=key)
    TransactionFactory(customer=known["c1"], amount=Decimal("70"), occurred_at=NOW.replace(day=2))

    call_command("compute_kpis", "--day", DAY.isoformat())

    assert KpiSnapshot.objects.filter(day=DAY).count() == scopes
    after = KpiSnapshot.objects.get(day=DAY, scope_key=key)
    assert after.pk == before.pk
    assert before.payload["customers"]["net_spend"] == "750.00"
    assert after.payload["customers"]["net_spend"] == "820.00"


def test_scopes_cover_every_program_tier_and_team(known, team, other_team):
    # programs: all, bank (3 tiers), shop (1 tier) = 1 + 4 + 2 = 7; teams: all + 2 = 3
    assert kpi_snapshots_compute(day=DAY) == 21
    assert KpiSnapshot.objects.filter(
        day=DAY, program=known["bank"], team=team, tier__rank=3
    ).exists()
