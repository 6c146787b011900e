"""The feedback dashboard: NPS and CSAT in Python and in SQL, the selectors on a small data set
with known numbers, and the admin page (supervisors only, tables with the numbers, a fixed
number of queries)."""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CustomerFactory
from tests.workflows.feedback_admin_data import answered, topic
from tests.workflows.feedback_factories import published_form
from workflows.feedback import dashboard
from workflows.feedback.dashboard import csat, nps
from workflows.models.feedback import ServiceStep

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
DASHBOARD = reverse("admin:workflows_feedbackresponse_dashboard")
# Week A: Monday 1 June 2026; week B: Monday 8 June; "now" is Wednesday 10 June, noon.
WEEK_A = datetime(2026, 6, 2, 10, 0, tzinfo=SHANGHAI)
WEEK_B = datetime(2026, 6, 9, 10, 0, tzinfo=SHANGHAI)


# -- the scores --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([9, 10, 10], 100.0),
        ([0, 3, 6], -100.0),
        ([7, 8, 7, 8], 0.0),
        ([], None),
        ([10, 9, 7, 3], 25.0),
        ([10, 0], 0.0),
        ([6, 7, 9], 0.0),
        ([9, 9, 9, 6], 50.0),
    ],
)
def test_nps_is_promoters_minus_detractors_in_percent(scores, expected):
    assert nps(scores) == expected


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([5, 4, 2], (11 / 3, 200 / 3)), ([1], (1.0, 0.0)), ([4, 5], (4.5, 100.0)), ([], (None, None))],
)
def test_csat_is_the_average_and_the_share_of_4_and_5(scores, expected):
    if expected[0] is None:
        assert csat(scores) == (None, None)
    else:
        assert csat(scores) == pytest.approx(expected)


def _week_nps_from_sql(supervisor, scores_by_week):
    version = published_form()
    customer = CustomerFactory(owner=supervisor)
    for week, scores in enumerate(scores_by_week):
        for score in scores:
            answered(version, customer=customer, nps=score, at=WEEK_A + timedelta(weeks=week))
    where = dashboard.dashboard_filter(
        first=WEEK_A.date(), last=(WEEK_A + timedelta(weeks=len(scores_by_week) - 1)).date()
    )
    return [week.nps for week in dashboard.nps_by_week(user=supervisor, where=where)]


def test_sql_nps_agrees_with_the_python_definition(supervisor):
    rng = random.Random(8)
    scores_by_week = [[rng.randint(0, 10) for _ in range(rng.randint(1, 25))] for _ in range(6)]
    scores_by_week += [[10, 9], [0, 6], [7, 8], []]

    from_sql = _week_nps_from_sql(supervisor, scores_by_week)

    assert from_sql == pytest.approx([nps(scores) for scores in scores_by_week])
    assert from_sql[-4:] == [100.0, -100.0, 0.0, None]


# -- the selectors on known numbers ------------------------------------------------------------


@pytest.fixture
def known(noon, rm, supervisor, foreign_rm):
    """Two forms (ticket, onboarding), six responses in the range, one of another team's
    customer and one too old. See each figure's test for the numbers."""
    ticket = published_form(slug="ticket", service_step=ServiceStep.TICKET)
    onboarding = published_form(slug="onboarding", service_step=ServiceStep.ONBOARDING)
    delivery = topic("delivery", "物流", "物流/快递")
    attitude = topic("service attitude", "服务态度", "客服/态度")
    mine = CustomerFactory(owner=rm, name="李雷")
    answered(
        ticket, customer=mine, at=WEEK_A, nps=10, csat=5, text="客服态度很好",
        sentiment=0.8, topics=[attitude],
    )  # fmt: skip
    answered(ticket, customer=mine, at=WEEK_A + timedelta(hours=1), nps=9, csat=4)
    answered(
        ticket, customer=mine, at=WEEK_A + timedelta(hours=2), nps=7, csat=2, text="物流太慢了",
        sentiment=-0.6, topics=[delivery],
    )  # fmt: skip
    answered(
        ticket, customer=mine, at=WEEK_B, nps=0, text="快递很快", sentiment=0.4,
        topics=[delivery],
    )  # fmt: skip
    answered(
        onboarding, customer=mine, at=WEEK_A + timedelta(hours=3), nps=3, csat=1,
        text="开户流程太复杂", sentiment=-0.3,
    )  # fmt: skip
    answered(onboarding, customer=None, at=WEEK_B + timedelta(hours=1), nps=5)  # open link
    theirs = CustomerFactory(owner=foreign_rm)
    answered(ticket, customer=theirs, at=WEEK_B, nps=10, csat=5, text="差", sentiment=-0.9)
    answered(ticket, customer=mine, at=datetime(2025, 1, 6, tzinfo=SHANGHAI), nps=10, csat=5)
    return {"ticket": ticket, "onboarding": onboarding, "customer": mine}


def _default_where(**kwargs):
    first, last = dashboard.default_range()
    return dashboard.dashboard_filter(first=first, last=last, **kwargs)


def test_nps_per_week_over_the_last_26_weeks(known, supervisor):
    weeks = dashboard.nps_by_week(user=supervisor, where=_default_where())

    assert len(weeks) == 26
    assert weeks[0].week == date(2025, 12, 15)
    assert weeks[-1].week == date(2026, 6, 8)
    assert [(w.label, w.answers, w.nps) for w in weeks[-2:]] == [
        ("2026-W23", 4, 25.0),  # 10, 9, 7, 3: two promoters, one detractor
        ("2026-W24", 2, -100.0),  # 0 and the open link's 5; not the other team's 10
    ]
    assert all(w.answers == 0 and w.nps is None for w in weeks[:-2])


def test_csat_per_service_step(known, supervisor):
    steps = dashboard.csat_by_step(user=supervisor, where=_default_where())

    assert [(s.step, s.answers, s.satisfied) for s in steps] == [
        (ServiceStep.TICKET, 3, 2),
        (ServiceStep.ONBOARDING, 1, 0),
    ]
    assert steps[0].average == pytest.approx(11 / 3)
    assert steps[0].satisfied_share == pytest.approx(200 / 3)
    assert (steps[1].average, steps[1].satisfied_share) == (1.0, 0.0)


def test_negative_answers_per_step_most_first(known, supervisor):
    steps = dashboard.negatives_by_step(user=supervisor, where=_default_where())

    # onboarding: NPS 3, CSAT 1, a negative text, the open link's NPS 5 -> 4 of 4;
    # ticket: CSAT 2, a negative text, NPS 0 -> 3 of 10 judged answers.
    assert [(s.step, s.negative, s.answers, s.scored_text) for s in steps] == [
        (ServiceStep.ONBOARDING, 4, 4, 1),
        (ServiceStep.TICKET, 3, 10, 3),
    ]


def test_top_topics_with_share_and_average_sentiment(known, supervisor):
    report = dashboard.feedback_dashboard(user=supervisor, where=_default_where())

    assert report.scored_text_answers == 4
    assert [(t.name_en, t.answers) for t in report.topics] == [
        ("delivery", 2),
        ("service attitude", 1),
    ]
    assert [t.share for t in report.topics] == [50.0, 25.0]
    assert report.topics[0].average_sentiment == pytest.approx(-0.1)
    assert report.topics[1].average_sentiment == pytest.approx(0.8)


def test_latest_negative_comments_newest_first_and_scoped(known, supervisor):
    comments = dashboard.negative_comments(user=supervisor, where=_default_where())

    assert [answer.text for answer in comments] == ["开户流程太复杂", "物流太慢了"]


def test_a_form_filter_narrows_every_figure(known, supervisor):
    where = _default_where(form_id=known["ticket"].form_id)
    report = dashboard.feedback_dashboard(user=supervisor, where=where)

    assert [(w.answers, w.nps) for w in report.weeks[-2:]] == [(3, 200 / 3), (1, -100.0)]
    assert [s.step for s in report.csat_steps] == [ServiceStep.TICKET]
    assert [c.text for c in report.comments] == ["物流太慢了"]


def test_an_rm_sees_no_anonymous_answers(known, rm):
    weeks = dashboard.nps_by_week(user=rm, where=_default_where())
    assert [(w.answers, w.nps) for w in weeks[-2:]] == [(4, 25.0), (1, -100.0)]


# -- the page ----------------------------------------------------------------------------------


def test_the_dashboard_shows_the_numbers_to_a_supervisor(known, client, supervisor):
    client.force_login(supervisor)

    response = client.get(DASHBOARD)

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="feedback-dashboard-data"' in page
    assert "workflows/vendor/chart.umd.min.js" in page
    nps_table = page.split('id="table-nps"')[1].split("</table>")[0]
    assert "2026-W23" in nps_table
    assert "25.0" in nps_table
    assert "-100.0" in nps_table
    csat_table = page.split('id="table-csat"')[1].split("</table>")[0]
    assert "3.67" in csat_table
    assert "66.7%" in csat_table
    topics_table = page.split('id="table-topics"')[1].split("</table>")[0]
    assert "50.0%" in topics_table
    comments = page.split('id="table-comments"')[1].split("</table>")[0]
    customer_url = reverse("admin:crm_customer_change", args=[known["customer"].pk])
    assert customer_url in comments
    assert "物流太慢了" in comments
    assert "差" not in comments  # the other team's customer


def test_the_dashboard_is_refused_to_an_rm(client, rm):
    client.force_login(rm)
    assert client.get(DASHBOARD).status_code == 403


def test_the_responses_list_links_to_the_dashboard_for_supervisors_only(client, rm, supervisor):
    changelist = reverse("admin:workflows_feedbackresponse_changelist")
    client.force_login(supervisor)
    assert DASHBOARD in client.get(changelist).content.decode()
    client.force_login(rm)
    assert DASHBOARD not in client.get(changelist).content.decode()


def test_a_reversed_range_is_a_clear_error(client, supervisor):
    client.force_login(supervisor)
    response = client.get(DASHBOARD, {"first": "2026-06-10", "last": "2026-06-01"})
    assert response.status_code == 200
    assert response.context["report"] is None
    assert response.context["form"].non_field_errors()


def _dashboard_queries(client, supervisor, responses: int) -> int:
    version = published_form(slug=f"load{responses}")
    customer = CustomerFactory(owner=supervisor)
    for number in range(responses):
        answered(
            version, customer=customer, at=WEEK_A + timedelta(hours=number), nps=number % 11,
            csat=1 + number % 5, text="太慢", sentiment=-0.5,
        )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        assert client.get(DASHBOARD).status_code == 200
    return len(queries)


def test_the_dashboard_takes_the_same_queries_for_3_and_30_responses(noon, client, supervisor):
    client.force_login(supervisor)
    few = _dashboard_queries(client, supervisor, 3)
    many = _dashboard_queries(client, supervisor, 30)
    assert few == many
