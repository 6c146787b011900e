"""Tickets in admin: the list's columns, sorting by SLA time left in SQL, filters, search,
scoping (RM, supervisor, another team), a fixed number of queries, attachments as downloads,
the supervisors' settings admins and the customer page's panel."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from tests.factories import CustomerFactory, TeamFactory, UserFactory, make_supervisor
from tests.workflows.tickets_admin_data import agent, ticket
from workflows.admin.tickets import sla_left_text
from workflows.models import AgentProfile, Ticket, TicketAttachment
from workflows.models.tickets import Priority
from workflows.tickets.panel import tickets_context

pytestmark = pytest.mark.django_db
LIST = reverse("admin:workflows_ticket_changelist")
SLA_COLUMN = (
    9  # action checkbox, id, subject, customer, department, category, priority, status, assignee
)


def listed(client, user, query="") -> list[int]:
    client.force_login(user)
    response = client.get(LIST + query)
    assert response.status_code == 200
    return [t.pk for t in response.context["cl"].result_list]


@pytest.fixture
def now(time_machine):
    moment = timezone.now().replace(microsecond=0)
    time_machine.move_to(moment, tick=False)
    return moment


# -- the SLA column ----------------------------------------------------------------------------


def test_sla_left_reads_as_hours_minutes_breached_or_paused(now):
    assert sla_left_text(status="open", due=now + timedelta(minutes=130), now=now) == "2 h 10 min"
    assert sla_left_text(status="new", due=now + timedelta(minutes=5), now=now) == "5 min"
    assert sla_left_text(status="open", due=now + timedelta(hours=50), now=now) == "2 d 2 h"
    assert (
        sla_left_text(status="open", due=now - timedelta(minutes=35), now=now)
        == "breached 35 min ago"
    )
    assert sla_left_text(status="waiting", due=now, now=now) == "paused"
    assert sla_left_text(status="resolved", due=now, now=now) == "–"
    assert sla_left_text(status="open", due=None, now=now) == "–"


def test_list_shows_the_nearer_deadline_and_sorts_open_tickets_by_it(client, rm, now):
    customer = CustomerFactory(owner=rm)
    later = ticket(customer, first_response_due_at=now + timedelta(hours=5))
    # Answered: only the resolution deadline counts, in 2 h 10 min.
    answered = ticket(
        customer,
        first_response_due_at=now - timedelta(hours=1),
        first_responded_at=now - timedelta(hours=2),
        resolution_due_at=now + timedelta(minutes=130),
    )
    breached = ticket(customer, first_response_due_at=now - timedelta(minutes=35))
    resolved = ticket(customer, status=Ticket.Status.RESOLVED, resolved_at=now)
    no_deadline = ticket(customer, first_response_due_at=None, resolution_due_at=None)

    assert listed(client, rm) == [breached.pk, answered.pk, later.pk, no_deadline.pk, resolved.pk]
    page = client.get(LIST).content.decode()
    assert "2 h 10 min" in page
    assert "breached 35 min ago" in page
    assert f'href="{reverse("admin:crm_customer_change", args=[customer.pk])}"' in page


def test_sla_column_sorts_in_the_database_both_ways(client, rm, now):
    customer = CustomerFactory(owner=rm)
    soon = ticket(customer, first_response_due_at=now + timedelta(minutes=10))
    late = ticket(customer, first_response_due_at=now + timedelta(hours=3))
    waiting = ticket(
        customer,
        status=Ticket.Status.WAITING,
        waiting_since=now,
        first_response_due_at=now + timedelta(minutes=50),
    )

    assert listed(client, rm, f"?o={SLA_COLUMN}") == [soon.pk, waiting.pk, late.pk]
    assert listed(client, rm, f"?o=-{SLA_COLUMN}") == [late.pk, waiting.pk, soon.pk]
    assert "paused" in client.get(LIST).content.decode()


def test_the_sla_due_column_follows_every_write_to_the_deadlines_and_status(rm, now):
    """`sla_due_at` is computed by the database: services, saves and raw UPDATEs keep it."""
    customer = CustomerFactory(owner=rm)
    response_due, resolution_due = now + timedelta(hours=1), now + timedelta(hours=8)
    created = ticket(customer, first_response_due_at=response_due, resolution_due_at=resolution_due)

    def column() -> tuple:
        return Ticket.objects.values_list("is_open", "sla_due_at").get(pk=created.pk)

    assert column() == (True, response_due)
    Ticket.objects.filter(pk=created.pk).update(first_responded_at=now)
    assert column() == (True, resolution_due)
    Ticket.objects.filter(pk=created.pk).update(first_responded_at=None, resolution_due_at=None)
    assert column() == (True, response_due)
    created.status = Ticket.Status.RESOLVED
    created.save(update_fields=["status"])
    assert column() == (False, None)
    assert created.history.count() == 2  # the history leaves the computed columns out


# -- filters and search -------------------------------------------------------------------------


def test_filters_by_breach_assignee_status_priority_and_team(client, rm, other_rm, supervisor, now):
    mine = ticket(CustomerFactory(owner=rm), assignee=supervisor)
    breached_mark = ticket(
        CustomerFactory(owner=other_rm), response_breached_at=now, priority=Priority.URGENT
    )
    overdue = ticket(CustomerFactory(owner=rm), resolution_due_at=now - timedelta(minutes=1))
    waiting = ticket(CustomerFactory(owner=rm), status=Ticket.Status.WAITING)
    elsewhere = ticket(CustomerFactory(owner=make_supervisor(TeamFactory())), assignee=supervisor)

    assert set(listed(client, supervisor, "?breached=yes")) == {breached_mark.pk, overdue.pk}
    assert set(listed(client, supervisor, "?breached=no")) == {mine.pk, waiting.pk, elsewhere.pk}
    assert set(listed(client, supervisor, "?assignee=me")) == {mine.pk, elsewhere.pk}
    assert set(listed(client, supervisor, "?assignee=none")) == {
        breached_mark.pk,
        overdue.pk,
        waiting.pk,
    }
    assert set(listed(client, supervisor, "?team=mine")) == {
        mine.pk,
        breached_mark.pk,
        overdue.pk,
        waiting.pk,
    }
    assert listed(client, supervisor, "?status__exact=waiting") == [waiting.pk]
    resolved = ticket(CustomerFactory(owner=rm), status=Ticket.Status.RESOLVED)
    # The "My team's tickets" link: the open ones of the team.
    assert resolved.pk in listed(client, supervisor, "?team=mine")
    assert set(listed(client, supervisor, "?team=mine&status__in=new,open,waiting")) == {
        mine.pk,
        breached_mark.pk,
        overdue.pk,
        waiting.pk,
    }
    assert listed(client, supervisor, f"?priority__exact={Priority.URGENT}") == [breached_mark.pk]


def test_search_by_number_external_id_subject_and_customer_name(client, rm):
    customer = CustomerFactory(owner=rm, name="欧阳娜娜")
    by_name = ticket(customer, subject="Points missing")
    other = ticket(CustomerFactory(owner=rm), subject="App login fails", external_id="CC-778")

    assert listed(client, rm, f"?q={by_name.pk}") == [by_name.pk]
    assert listed(client, rm, "?q=CC-778") == [other.pk]
    assert listed(client, rm, "?q=login") == [other.pk]
    assert listed(client, rm, "?q=欧阳") == [by_name.pk]


# -- scoping --------------------------------------------------------------------------------------


def test_rm_sees_their_customers_tickets_and_those_assigned_to_them(client, rm, other_rm):
    own = ticket(CustomerFactory(owner=rm))
    assigned = ticket(CustomerFactory(owner=other_rm), assignee=rm)
    others = ticket(CustomerFactory(owner=other_rm))

    assert set(listed(client, rm)) == {own.pk, assigned.pk}
    assert client.get(reverse("admin:workflows_ticket_change", args=[own.pk])).status_code == 200
    assert client.get(reverse("admin:workflows_ticket_history", args=[own.pk])).status_code == 200
    response = client.get(reverse("admin:workflows_ticket_change", args=[others.pk]))
    assert response.status_code == 404
    history = client.get(reverse("admin:workflows_ticket_history", args=[others.pk]))
    assert history.status_code == 404


def test_supervisor_sees_their_team_only(client, rm, supervisor, foreign_rm):
    team_ticket = ticket(CustomerFactory(owner=rm))
    foreign = ticket(CustomerFactory(owner=foreign_rm))

    assert listed(client, supervisor) == [team_ticket.pk]
    response = client.get(reverse("admin:workflows_ticket_change", args=[foreign.pk]))
    assert response.status_code == 404
    client.force_login(foreign_rm)
    response = client.get(reverse("admin:workflows_ticket_change", args=[team_ticket.pk]))
    assert response.status_code == 404


def test_who_sees_all_customers_sees_every_ticket(client, rm, foreign_rm):
    admin_user = UserFactory(username="head_office", is_superuser=True)
    tickets = {ticket(CustomerFactory(owner=rm)).pk, ticket(CustomerFactory(owner=foreign_rm)).pk}
    assert set(listed(client, admin_user)) == tickets


# -- queries ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tickets", [3, 30])
def test_list_runs_the_same_queries_for_3_and_30_tickets(
    client, supervisor, rm, tickets, django_assert_num_queries
):
    for n in range(tickets):
        ticket(CustomerFactory(owner=rm), assignee=rm if n % 2 else supervisor)
    client.force_login(supervisor)
    client.get(LIST)  # warm the session and content types

    # session, user, user's and group's permissions, supervised teams and owns-outside-teams
    # (visibility), the capped count, the page with its customers and assignees joined.
    with django_assert_num_queries(7):
        response = client.get(LIST + "?o=9")
    assert len(response.context["cl"].result_list) == tickets


# -- attachments ----------------------------------------------------------------------------------


def test_attachment_is_a_download_for_those_who_see_the_ticket(
    client, rm, other_rm, settings, tmp_path
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    item = ticket(CustomerFactory(owner=rm))
    attachment = TicketAttachment(
        ticket=item, name="statement.html", content_type="text/html", size=20
    )
    attachment.file.save("x.html", ContentFile(b"<script>x</script>"), save=True)
    url = reverse("admin:workflows_ticket_attachment", args=[item.pk, attachment.pk])

    client.force_login(rm)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<script>x</script>"
    change_page = client.get(reverse("admin:workflows_ticket_change", args=[item.pk]))
    assert url in change_page.content.decode()
    assert settings.MEDIA_URL not in change_page.content.decode()

    client.force_login(other_rm)
    assert client.get(url).status_code == 404


# -- the change page ------------------------------------------------------------------------------


def test_change_page_offers_the_allowed_transitions_and_no_save(client, rm):
    item = ticket(CustomerFactory(owner=rm), status=Ticket.Status.OPEN)
    client.force_login(rm)
    page = client.get(reverse("admin:workflows_ticket_change", args=[item.pk])).content.decode()

    assert 'name="to_status" value="waiting"' in page
    assert 'name="to_status" value="resolved"' in page
    assert 'name="to_status" value="closed"' not in page
    assert 'name="_save"' not in page
    assert reverse("admin:workflows_ticket_note", args=[item.pk]) in page


# -- supervisors' settings ------------------------------------------------------------


@pytest.mark.parametrize("name", ["routingrule", "slapolicy", "businesscalendar", "agentprofile"])
def test_settings_admins_are_for_supervisors(client, rm, supervisor, name):
    url = reverse(f"admin:workflows_{name}_changelist")
    client.force_login(rm)
    assert client.get(url).status_code == 403
    client.force_login(supervisor)
    assert client.get(url).status_code == 200


def test_toggle_away_flips_each_selected_agent(client, supervisor, rm, other_rm):
    away, present = agent(rm, is_away=True), agent(other_rm)
    client.force_login(supervisor)
    response = client.post(
        reverse("admin:workflows_agentprofile_changelist"),
        {"action": "toggle_away", "_selected_action": [away.pk, present.pk]},
    )
    assert response.status_code == 302
    assert dict(AgentProfile.objects.values_list("pk", "is_away")) == {
        away.pk: False,
        present.pk: True,
    }


def test_calendar_add_page_has_the_day_inline(client, supervisor):
    client.force_login(supervisor)
    page = client.get(reverse("admin:workflows_businesscalendar_add")).content.decode()
    assert 'name="days-TOTAL_FORMS"' in page


# -- the customer page's panel --------------------------------------------------------


def test_panel_lists_the_latest_ten_tickets_in_one_query(rf, rm, now, django_assert_num_queries):
    customer = CustomerFactory(owner=rm)
    for n in range(12):
        ticket(customer, created_at=now - timedelta(hours=n + 1), subject=f"T{n}")
    ticket(customer, created_at=now, response_breached_at=now, subject="Late one")
    request = rf.get("/")
    request.user = rm
    rm.has_perm("workflows.view_ticket")  # the permission cache, as on the page

    with django_assert_num_queries(1):
        context = tickets_context(customer, request)

    subjects = [t.subject for t in context["tickets"]]
    assert subjects == ["Late one", *[f"T{n}" for n in range(9)]]
    assert context["tickets"][0].is_breached
    assert context["can_view"]


def test_customer_page_shows_the_tickets_panel(client, rm):
    customer = CustomerFactory(owner=rm)
    item = ticket(customer, subject="Lost card in Hangzhou")
    client.force_login(rm)
    page = client.get(reverse("admin:crm_customer_change", args=[customer.pk])).content.decode()
    assert "Lost card in Hangzhou" in page
    assert reverse("admin:workflows_ticket_change", args=[item.pk]) in page
    ticket(CustomerFactory(owner=rm))  # another customer's
    assert listed(client, rm, f"?customer__id__exact={customer.pk}") == [item.pk]
