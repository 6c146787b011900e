"""Tickets: the state machine, routing, least-loaded assignment, the idle offer, opening
idempotent on an external id, notes and replies, and who sees what."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from crm.models import Interaction
from tests.factories import CustomerFactory
from tests.workflows.tickets_core_data import agent, loaded, open_ticket
from workflows.models import RoutingRule, Ticket, TicketNote
from workflows.models.tickets import Department, Priority, TicketCategory, TicketChannel
from workflows.tickets.routing import ticket_route
from workflows.tickets.selectors import ticket_list
from workflows.tickets.services import (
    ticket_assign_to,
    ticket_create,
    ticket_note_add,
    ticket_transition,
    tickets_offer_idle,
)
from workflows.tickets.states import InvalidTransition

pytestmark = pytest.mark.django_db
Status = Ticket.Status


@pytest.fixture(autouse=True)
def _frozen(noon):
    """A Wednesday noon in Shanghai, the clock stopped (shift() moves it)."""


# --- The state machine ------------------------------------------------------------------------


def test_a_ticket_goes_new_open_waiting_open_resolved_closed(rm):
    ticket = open_ticket()
    for status in ("open", "waiting", "open", "resolved", "closed"):
        ticket = ticket_transition(ticket=ticket, to_status=status, by=rm)
        assert ticket.status == status
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None
    assert ticket.closed_at is not None
    reasons = list(
        ticket.history.order_by("history_id").values_list("history_change_reason", flat=True)
    )
    assert "status: resolved → closed" in reasons


def test_waiting_on_the_customer_pauses_the_clock_and_leaving_it_resumes(rm):
    ticket = ticket_transition(ticket=open_ticket(), to_status="waiting", by=rm)
    assert Ticket.objects.get(pk=ticket.pk).waiting_since is not None
    ticket_transition(ticket=ticket, to_status="open", by=rm)
    assert Ticket.objects.get(pk=ticket.pk).waiting_since is None


@pytest.mark.parametrize(
    ("path", "to_status", "code"),
    [
        ((), "closed", "invalid_transition"),
        (("resolved", "closed"), "open", "invalid_transition"),
        (("open",), "open", "same_status"),
        ((), "done", "unknown_status"),
    ],
)
def test_invalid_transitions_are_refused_with_a_clear_message(rm, path, to_status, code):
    ticket = open_ticket()
    for status in path:
        ticket = ticket_transition(ticket=ticket, to_status=status, by=rm)
    before = Ticket.objects.get(pk=ticket.pk).status

    with pytest.raises(InvalidTransition) as refused:
        ticket_transition(ticket=ticket, to_status=to_status, by=rm)

    assert refused.value.code == code
    assert Ticket.objects.get(pk=ticket.pk).status == before


def test_the_message_names_both_statuses():
    ticket = open_ticket()
    with pytest.raises(InvalidTransition) as refused:
        ticket_transition(ticket=ticket, to_status="closed", by=None)
    assert refused.value.messages == ["A ticket cannot go from “New” to “Closed”."]


def test_a_closed_ticket_says_it_is_final(rm):
    ticket = open_ticket()
    ticket = ticket_transition(ticket=ticket, to_status="resolved", by=rm)
    ticket = ticket_transition(ticket=ticket, to_status="closed", by=rm)
    with pytest.raises(InvalidTransition, match="A closed ticket cannot change any more"):
        ticket_transition(ticket=ticket, to_status="open", by=rm)


def test_reopen_within_the_window_counts_and_goes_on_the_timeline(rm, time_machine, settings):
    settings.WORKFLOWS_TICKET_REOPEN_DAYS = 7
    ticket = ticket_transition(ticket=open_ticket(), to_status="resolved", by=rm)
    time_machine.shift(timedelta(days=6, hours=23))

    ticket = ticket_transition(ticket=ticket, to_status="open", by=rm)

    assert ticket.reopened_count == 1
    assert ticket.resolved_at is None
    summaries = list(Interaction.objects.values_list("summary", flat=True))
    assert any("reopened" in summary for summary in summaries)


def test_reopen_after_the_window_is_refused(rm, time_machine, settings):
    settings.WORKFLOWS_TICKET_REOPEN_DAYS = 7
    ticket = ticket_transition(ticket=open_ticket(), to_status="resolved", by=rm)
    time_machine.shift(timedelta(days=7, minutes=1))

    with pytest.raises(InvalidTransition) as refused:
        ticket_transition(ticket=ticket, to_status="open", by=rm)

    assert refused.value.code == "reopen_window_over"
    assert "7 days" in refused.value.messages[0]
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RESOLVED


# --- Routing ----------------------------------------------------------------------------------


def test_routing_takes_the_first_matching_rule_by_order():
    RoutingRule.objects.create(order=20, keywords="闪退/登录/app", department="tech_support")
    RoutingRule.objects.create(order=10, keywords="理财/贷款", department="sales")
    RoutingRule.objects.create(order=30, category="card", department="customer_service")

    assert ticket_route(category="card", subject="手机银行闪退了") == "tech_support"
    assert ticket_route(category="card", subject="The App crashes at login") == "tech_support"
    assert ticket_route(category="card", subject="Unhappy", description="") == "customer_service"
    assert ticket_route(category="other", subject="想了解理财和登录") == "sales"


def test_no_rule_falls_back_to_the_default_department_of_the_category():
    RoutingRule.objects.create(order=1, keywords="x", department="sales", is_active=False)
    assert ticket_route(category="app", subject="?") == Department.TECH_SUPPORT
    assert ticket_route(category="sales", subject="?") == Department.SALES
    assert ticket_route(category="card", subject="?") == Department.CUSTOMER_SERVICE


# --- Assignment -------------------------------------------------------------------------------


def test_the_least_loaded_agent_takes_the_ticket_by_priority_weight():
    heavy = agent("heavy")  # one urgent: load 5
    lighter = agent("lighter")  # two normal: load 4
    loaded(heavy, Priority.URGENT)
    loaded(lighter, Priority.NORMAL, Priority.NORMAL)
    agent("away", is_away=True)  # no load, but away
    agent("sales", department=Department.SALES)  # another department

    ticket = open_ticket()

    assert ticket.assignee == lighter
    assert ticket.assigned_at is not None
    assert ticket.agent_acted_at is None


def test_equal_loads_go_to_the_agent_with_fewer_tickets_then_the_lower_id():
    two = agent("two")
    one = agent("one")
    loaded(two, Priority.LOW, Priority.NORMAL)  # 3 over two tickets
    loaded(one, Priority.HIGH)  # 3 over one ticket
    assert open_ticket().assignee == one
    first, second = agent("empty_a"), agent("empty_b")
    assert open_ticket().assignee == first
    assert open_ticket().assignee == second


def test_without_an_available_agent_the_ticket_stays_unassigned(team):
    agent("away", is_away=True)
    ticket = open_ticket(CustomerFactory(team=team))
    assert ticket.assignee is None
    assert ticket.team == team
    assert ticket.department == Department.CUSTOMER_SERVICE


def test_assign_to_a_named_user_restarts_the_idle_clock(supervisor):
    a = agent("a")
    ticket = open_ticket()
    ticket_note_add(ticket=ticket, kind="internal", body="checking", author=a)
    b = agent("b")

    ticket = ticket_assign_to(ticket=ticket, assignee=b, by=supervisor)

    assert ticket.assignee == b
    assert ticket.agent_acted_at is None
    resolved = ticket_transition(ticket=ticket, to_status="resolved", by=b)
    with pytest.raises(Exception, match="still being worked on"):
        ticket_assign_to(ticket=resolved, assignee=a, by=supervisor)


# --- The idle offer ---------------------------------------------------------------------------


def test_an_idle_ticket_is_offered_to_the_next_agent_once_per_idle_period(settings, time_machine):
    settings.WORKFLOWS_TICKET_IDLE_BUSINESS_MINUTES = 30
    first, second = agent("first"), agent("second")
    ticket = open_ticket()
    assert ticket.assignee == first
    time_machine.shift(timedelta(minutes=29))
    assert tickets_offer_idle() == 0

    time_machine.shift(timedelta(minutes=2))
    assert tickets_offer_idle() == 1
    assert tickets_offer_idle() == 0  # the same idle period

    ticket.refresh_from_db()
    assert ticket.assignee == second
    note = TicketNote.objects.get(ticket=ticket)
    assert note.kind == "internal"
    assert "second" in note.body
    assert "30" in note.body
    assert "first" in " ".join(ticket.history.values_list("history_change_reason", flat=True))
    # A new idle period of the second agent: back to the first.
    time_machine.shift(timedelta(minutes=31))
    assert tickets_offer_idle() == 1
    ticket.refresh_from_db()
    assert ticket.assignee == first


def test_an_agent_who_acted_keeps_the_ticket(settings, time_machine):
    settings.WORKFLOWS_TICKET_IDLE_BUSINESS_MINUTES = 30
    first, _second = agent("first"), agent("second")
    ticket = open_ticket()
    ticket_note_add(ticket=ticket, kind="internal", body="looking", author=first)
    time_machine.shift(timedelta(hours=2))

    assert tickets_offer_idle() == 0
    ticket.refresh_from_db()
    assert ticket.assignee == first


def test_the_idle_offer_costs_a_fixed_number_of_queries_when_nothing_is_idle(
    django_assert_num_queries,
):
    agent("a")
    for _n in range(5):
        open_ticket()
    with django_assert_num_queries(1):
        assert tickets_offer_idle() == 0


# --- Opening ----------------------------------------------------------------------------------


def test_opening_puts_the_ticket_on_the_timeline_with_history(rm):
    customer = CustomerFactory(owner=rm)
    ticket = open_ticket(customer, created_by=rm, subject="卡被冻结")
    entry = Interaction.objects.get(customer=customer)
    assert entry.kind == Interaction.Kind.TICKET
    assert entry.summary == f"#{ticket.pk} 卡被冻结"
    assert ticket.team_id == customer.team_id
    assert ticket.history.first().history_user == rm


def test_every_status_change_is_on_the_timeline(rm):
    customer = CustomerFactory(owner=rm)
    ticket = open_ticket(customer, subject="Card blocked")
    for status in ("waiting", "open", "resolved", "open", "resolved", "closed"):
        ticket_transition(ticket=ticket, to_status=status, by=rm)

    summaries = list(
        Interaction.objects.filter(customer=customer)
        .order_by("pk")
        .values_list("summary", flat=True)
    )
    labels = ["waiting", "open", "resolved", "reopened", "resolved", "closed"]
    assert summaries == [f"#{ticket.pk} Card blocked"] + [
        f"#{ticket.pk} {label}: Card blocked" for label in labels
    ]


def test_the_same_external_id_returns_the_first_ticket():
    customer = CustomerFactory()
    fields = {
        "customer": customer,
        "category": TicketCategory.CARD,
        "subject": "Card blocked",
        "channel": TicketChannel.API,
        "external_id": "cc-2026-0001",
    }
    first, created = ticket_create(**fields)
    again, created_again = ticket_create(**{**fields, "subject": "Something else"})

    assert created is True
    assert created_again is False
    assert again.pk == first.pk
    assert again.subject == "Card blocked"
    assert Ticket.objects.count() == 1
    assert Interaction.objects.count() == 1


def test_invalid_fields_are_refused_and_nothing_is_written():
    with pytest.raises(ValidationError) as refused:
        ticket_create(
            customer=CustomerFactory(), category="nope", subject=" ", channel="fax", priority=9
        )
    assert set(refused.value.message_dict) == {"category", "subject", "channel", "priority"}
    assert Ticket.objects.count() == 0


# --- Notes ------------------------------------------------------------------------------------


def test_a_public_reply_is_the_first_response_and_an_internal_note_is_not():
    a = agent("a")
    ticket = open_ticket()
    ticket_note_add(ticket=ticket, kind="internal", body="checking", author=a)
    ticket.refresh_from_db()
    assert ticket.agent_acted_at is not None
    assert ticket.first_responded_at is None

    ticket_note_add(ticket=ticket, kind="reply", body="您好，已为您处理。", author=a)
    ticket.refresh_from_db()
    first = ticket.first_responded_at
    assert first is not None
    ticket_note_add(ticket=ticket, kind="reply", body="again", author=a)
    ticket.refresh_from_db()
    assert ticket.first_responded_at == first


def test_an_empty_note_is_refused():
    with pytest.raises(Exception, match="Write something"):
        ticket_note_add(ticket=open_ticket(), kind="reply", body="  ", author=None)
    assert TicketNote.objects.count() == 0


# --- Who sees what ----------------------------------------------------------------------------


def test_rms_see_their_customers_supervisors_their_teams_agents_theirs(
    rm, other_rm, supervisor, foreign_rm
):
    worker = agent("worker")
    mine = open_ticket(CustomerFactory(owner=rm))
    colleagues = open_ticket(CustomerFactory(owner=other_rm))
    foreign = open_ticket(CustomerFactory(owner=foreign_rm))
    assert {mine.assignee, colleagues.assignee, foreign.assignee} == {worker}

    assert set(ticket_list(user=rm)) == {mine}
    assert set(ticket_list(user=supervisor)) == {mine, colleagues}
    assert set(ticket_list(user=foreign_rm)) == {foreign}
    assert set(ticket_list(user=worker)) == {mine, colleagues, foreign}
