"""Ticket reports: the selectors on known data (per day, SLA attainment per department,
priority and agent, average times, top categories), scoped by visibility; the page is for
supervisors, with a fixed number of queries."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.factories import CustomerFactory
from tests.workflows.tickets_admin_data import ticket
from workflows.models import Ticket
from workflows.models.tickets import Department, Priority, TicketCategory
from workflows.tickets import reports

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
REPORTS = reverse("admin:workflows_ticket_reports")
FIRST, LAST = date(2026, 5, 12), date(2026, 6, 10)


def at(day: int, hour: int, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def known(time_machine, rm, foreign_rm):
    """Three tickets resolved in the range (one on time, one late, one without deadlines), one
    still open, one of another team and one from before the range."""
    time_machine.move_to(at(10, 12), tick=False)
    customer = CustomerFactory(owner=rm)
    resolved = {"status": Ticket.Status.RESOLVED}
    ticket(
        customer,
        **resolved,
        assignee=rm,
        created_at=at(8, 10),
        first_response_due_at=at(8, 11),
        first_responded_at=at(8, 10, 30),
        resolution_due_at=at(8, 18),
        resolved_at=at(8, 14),
        first_response_business_minutes=30,
        resolution_business_minutes=240,
    )
    ticket(
        customer,
        **resolved,
        assignee=rm,
        priority=Priority.HIGH,
        created_at=at(9, 9),
        first_response_due_at=at(9, 9, 30),
        first_responded_at=at(9, 10),
        resolution_due_at=at(9, 12),
        resolved_at=at(9, 15),
        first_response_business_minutes=60,
        resolution_business_minutes=360,
    )
    ticket(
        customer,
        **resolved,
        department=Department.TECH_SUPPORT,
        category=TicketCategory.APP,
        priority=Priority.HIGH,
        created_at=at(9, 10),
        first_response_due_at=None,
        resolution_due_at=None,
        resolved_at=at(10, 10),
        resolution_business_minutes=540,  # Tuesday 10:00-18:00 and Wednesday 09:00-10:00
    )
    ticket(customer, department=Department.TECH_SUPPORT, created_at=at(10, 9))
    ticket(CustomerFactory(owner=foreign_rm), **resolved, created_at=at(9, 8), resolved_at=at(9, 9))
    ticket(customer, **resolved, created_at=at(1, 8, month=5), resolved_at=at(2, 8, month=5))


def test_default_range_is_the_last_30_days_today_included():
    assert reports.default_range(today=LAST) == (FIRST, LAST)


def test_tickets_opened_and_resolved_per_local_day(known, supervisor):
    days = reports.tickets_per_day(user=supervisor, first=FIRST, last=LAST)

    assert len(days) == 30
    assert [(d.day.day, d.opened, d.resolved) for d in days[-3:]] == [
        (8, 1, 1),
        (9, 2, 1),
        (10, 1, 1),
    ]
    assert sum(d.opened for d in days) == 4
    assert sum(d.resolved for d in days) == 3


def test_sla_attainment_and_average_times_per_department(known, supervisor):
    rows = {
        row.key: row for row in reports.sla_by_department(user=supervisor, first=FIRST, last=LAST)
    }

    service = rows[Department.CUSTOMER_SERVICE]
    assert (service.resolved, service.resolution_on_time, service.resolution_due) == (2, 1, 2)
    assert service.resolution_share == 50.0
    assert (service.response_on_time, service.response_due) == (1, 2)
    assert service.average_response_minutes == pytest.approx(45)
    assert service.average_resolution_minutes == pytest.approx(300)
    tech = rows[Department.TECH_SUPPORT]
    assert tech.resolved == 1
    assert tech.resolution_share is None
    assert tech.response_share is None
    assert tech.average_response_minutes is None
    assert tech.average_resolution_minutes == pytest.approx(540)


def test_sla_attainment_per_priority_and_agent(known, supervisor, rm):
    priorities = reports.sla_by_priority(user=supervisor, first=FIRST, last=LAST)
    agents = reports.sla_by_agent(user=supervisor, first=FIRST, last=LAST)
    overall = reports.sla_overall(user=supervisor, first=FIRST, last=LAST)

    assert [(r.key, r.resolved, r.resolution_share) for r in priorities] == [
        (Priority.HIGH, 2, 0.0),
        (Priority.NORMAL, 1, 100.0),
    ]
    assert [(r.key, r.label, r.resolved) for r in agents] == [
        (rm.pk, "rm_li", 2),
        (None, "Unassigned", 1),
    ]
    assert (overall.resolved, overall.resolution_share, overall.response_share) == (3, 50.0, 50.0)


def test_top_categories_with_their_share(known, supervisor):
    rows = reports.top_categories(user=supervisor, first=FIRST, last=LAST)
    assert [(r.category, r.tickets, r.share) for r in rows] == [
        (TicketCategory.CARD, 3, 75.0),
        (TicketCategory.APP, 1, 25.0),
    ]


def test_reports_count_only_what_the_user_may_see(known, foreign_rm):
    report = reports.ticket_report(user=foreign_rm, first=FIRST, last=LAST)
    assert (report.opened, report.resolved) == (1, 1)
    assert [r.label for r in report.categories] == ["Card"]


def test_reports_page_shows_tables_for_supervisors_in_fixed_queries(
    known, client, supervisor, django_assert_num_queries
):
    client.force_login(supervisor)
    client.get(REPORTS)

    # session, user, 2 permissions, supervised teams, owns-outside-teams; 2 per day, overall,
    # 3 attainment groupings, categories.
    with django_assert_num_queries(12):
        response = client.get(REPORTS)

    page = response.content.decode()
    assert response.status_code == 200
    for table in ("days", "department", "agent", "priority", "categories"):
        assert f'id="table-{table}"' in page
    assert "50.0% (1/2)" in page
    assert 'id="ticket-reports-data"' in page


def test_reports_page_refuses_a_backwards_range(known, client, supervisor):
    client.force_login(supervisor)
    response = client.get(REPORTS, {"first": "2026-06-10", "last": "2026-06-01"})
    assert response.status_code == 200
    assert response.context["report"] is None
    assert "The first day comes after the last one." in response.content.decode()


def test_rm_cannot_open_reports(client, rm):
    client.force_login(rm)
    assert client.get(REPORTS).status_code == 403
    assert (
        "Ticket reports"
        not in client.get(reverse("admin:workflows_ticket_changelist")).content.decode()
    )
