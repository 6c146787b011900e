"""The SLA clock (policy by tier, pause and resume, recompute) and the watcher: warnings at 80%
and breaches in business time, each once, staff messages through the outbox."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from crm.models import TeamMembership
from loyalty.models import Membership
from tests.factories import CustomerFactory, TeamFactory, UserFactory
from tests.loyalty.factories import TierFactory
from workflows.models import BusinessCalendar, Message, SlaPolicy, Ticket
from workflows.models.tickets import Priority
from workflows.outbox.dispatch import outbox_dispatch
from workflows.tickets.seeds import ticket_templates_seed
from workflows.tickets.sla import (
    SLA_FIELDS,
    ticket_sla_pause,
    ticket_sla_recompute,
    ticket_sla_resume,
    ticket_sla_start,
)
from workflows.tickets.watch import tickets_watch

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


CREATED = at(2026, 6, 10, 9, 0)  # a Wednesday


@pytest.fixture
def setup(db):
    calendar = BusinessCalendar.objects.create(
        name="Service", shifts=[["09:00", "12:00"], ["13:00", "18:00"]], is_default=True
    )
    SlaPolicy.objects.create(
        priority=Priority.NORMAL, min_tier_rank=1, first_response_minutes=60, resolution_minutes=480
    )
    SlaPolicy.objects.create(
        priority=Priority.NORMAL, min_tier_rank=3, first_response_minutes=30, resolution_minutes=240
    )
    SlaPolicy.objects.create(
        priority=Priority.HIGH, min_tier_rank=1, first_response_minutes=30, resolution_minutes=120
    )
    team = TeamFactory()
    supervisors = [UserFactory(email=f"sup{i}@example.com") for i in range(2)]
    for user in supervisors:
        TeamMembership.objects.create(team=team, user=user, role=TeamMembership.Role.SUPERVISOR)
    agent = UserFactory(email="agent@example.com")
    return {"calendar": calendar, "team": team, "supervisors": supervisors, "agent": agent}


def make_ticket(setup, *, customer=None, created_at=CREATED, **fields) -> Ticket:
    defaults = {
        "team": setup["team"],
        "assignee": setup["agent"],
        "department": "customer_service",
        "category": "card",
        "subject": "Card blocked",
        "status": Ticket.Status.OPEN,
    }
    ticket = Ticket(
        customer=customer or CustomerFactory(), created_at=created_at, **{**defaults, **fields}
    )
    ticket_sla_start(ticket, now=created_at)
    ticket.save()
    return ticket


def gold_customer():
    customer = CustomerFactory()
    tier = TierFactory(rank=3)
    Membership.objects.create(
        customer=customer, program=tier.program, tier=tier, since=date(2026, 1, 1)
    )
    return customer


def test_deadlines_and_warnings_in_business_time(setup):
    ticket = make_ticket(setup)
    assert ticket.calendar == setup["calendar"]
    assert ticket.sla_policy.min_tier_rank == 1
    assert ticket.response_warn_at == at(2026, 6, 10, 9, 48)
    assert ticket.first_response_due_at == at(2026, 6, 10, 10, 0)
    # 480 minutes across the lunch break; 80% = 384 minutes.
    assert ticket.resolution_warn_at == at(2026, 6, 10, 16, 24)
    assert ticket.resolution_due_at == at(2026, 6, 10, 18, 0)


def test_a_higher_tier_gets_the_shorter_policy(setup):
    ticket = make_ticket(setup, customer=gold_customer())
    assert ticket.sla_policy.min_tier_rank == 3
    assert ticket.first_response_due_at == at(2026, 6, 10, 9, 30)
    assert ticket.resolution_due_at == at(2026, 6, 10, 14, 0)


def test_the_team_calendar_wins_over_the_default(setup):
    own = BusinessCalendar.objects.create(name="Evenings", shifts=[["18:00", "22:00"]])
    own.teams.add(setup["team"])
    ticket = make_ticket(setup)
    assert ticket.calendar == own
    assert ticket.first_response_due_at == at(2026, 6, 10, 19, 0)


def test_waiting_on_the_customer_pauses_both_clocks(setup):
    ticket = make_ticket(setup)
    ticket_sla_pause(ticket, now=at(2026, 6, 10, 9, 30))  # 30 and 450 minutes left
    ticket.status = Ticket.Status.WAITING
    ticket_sla_resume(ticket, now=at(2026, 6, 12, 17, 30))  # Friday, half an hour to closing
    assert ticket.waiting_since is None
    assert ticket.first_response_due_at == at(2026, 6, 12, 18, 0)
    assert ticket.response_warn_at == at(2026, 6, 12, 17, 48)
    # 30 minutes on Friday, the weekend, 420 on Monday.
    assert ticket.resolution_due_at == at(2026, 6, 15, 17, 0)


def test_a_wait_over_national_day_pushes_deadlines_past_the_holiday(setup):
    ticket = make_ticket(setup, created_at=at(2026, 9, 30, 17, 30))
    assert ticket.first_response_due_at == at(2026, 10, 8, 9, 30)  # 1-7 October off
    ticket_sla_pause(ticket, now=at(2026, 9, 30, 17, 45))  # 45 minutes left
    ticket_sla_resume(ticket, now=at(2026, 10, 9, 17, 45))
    # Friday 9 October 17:45 + 45 minutes: 15 on Friday, 30 on Saturday 10 October (调休).
    assert ticket.first_response_due_at == at(2026, 10, 10, 9, 30)


def test_a_met_first_response_is_not_pushed_back(setup):
    ticket = make_ticket(setup)
    ticket.first_responded_at = at(2026, 6, 10, 9, 10)
    ticket_sla_pause(ticket, now=at(2026, 6, 10, 9, 30))
    ticket_sla_resume(ticket, now=at(2026, 6, 10, 10, 30))
    assert ticket.first_response_due_at == at(2026, 6, 10, 10, 0)
    assert ticket.resolution_due_at == at(2026, 6, 11, 10, 0)


def test_a_priority_change_recomputes_from_creation_keeping_the_wait(setup):
    ticket = make_ticket(setup)
    ticket_sla_pause(ticket, now=at(2026, 6, 10, 9, 30))
    ticket_sla_resume(ticket, now=at(2026, 6, 10, 10, 30))  # 60 minutes waited
    ticket.priority = Priority.HIGH
    ticket_sla_recompute(ticket, now=at(2026, 6, 10, 10, 40))
    assert ticket.sla_policy.priority == Priority.HIGH
    assert ticket.first_response_due_at == at(2026, 6, 10, 10, 30)  # 30 + 60 waited
    assert ticket.resolution_due_at == at(2026, 6, 10, 12, 0)  # 120 + 60 waited
    ticket.save(update_fields=SLA_FIELDS)


def _message_keys() -> set[str]:
    return set(Message.objects.values_list("occasion", flat=True))


def test_the_watcher_warns_and_breaches_each_once(setup, time_machine):
    ticket = make_ticket(setup)
    sup1, sup2 = (u.pk for u in setup["supervisors"])
    assert tickets_watch(now=at(2026, 6, 10, 9, 47)).summary()["messages"] == 0

    assert tickets_watch(now=at(2026, 6, 10, 9, 48)).warned["response"] == [ticket.pk]
    assert tickets_watch(now=at(2026, 6, 10, 9, 49)).summary()["messages"] == 0  # twice
    warning = Message.objects.get()
    assert (warning.purpose, warning.staff_recipient, warning.customer) == (
        "staff",
        setup["agent"],
        ticket.customer,
    )
    assert warning.key == f"staff:{ticket.customer_id}:ticket:{ticket.pk}:response-warning:email"

    result = tickets_watch(now=at(2026, 6, 10, 10, 0))
    assert (result.breached["response"], result.escalated) == ([ticket.pk], [ticket.pk])
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH
    assert ticket.escalated_at == at(2026, 6, 10, 10, 0)
    assert tickets_watch(now=at(2026, 6, 10, 10, 1)).summary()["messages"] == 0

    tickets_watch(now=at(2026, 6, 10, 16, 24))
    result = tickets_watch(now=at(2026, 6, 10, 18, 0))
    assert (result.breached["resolution"], result.escalated) == ([ticket.pk], [])
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH  # raised once per ticket, ever
    assert _message_keys() == {
        f"ticket:{ticket.pk}:response-warning",
        f"ticket:{ticket.pk}:response-breach:{sup1}",
        f"ticket:{ticket.pk}:response-breach:{sup2}",
        f"ticket:{ticket.pk}:resolution-warning",
        f"ticket:{ticket.pk}:resolution-breach:{sup1}",
        f"ticket:{ticket.pk}:resolution-breach:{sup2}",
    }
    assert ticket.history.filter(history_change_reason="SLA watcher").count() == 4


def test_a_late_watcher_run_twice_does_everything_once(setup, time_machine):
    ticket = make_ticket(setup, priority=Priority.URGENT)  # no policy for urgent here
    assert ticket.first_response_due_at is None
    normal = make_ticket(setup)
    time_machine.move_to(at(2026, 6, 11, 9, 0), tick=False)  # the next morning
    first = tickets_watch()
    second = tickets_watch()
    assert first.summary() == {
        "response_warned": 1,
        "resolution_warned": 1,
        "response_breached": 1,
        "resolution_breached": 1,
        "escalated": 1,
        "messages": 6,
    }
    assert second.summary()["messages"] == 0
    assert second.escalated == []
    assert Message.objects.count() == 6
    normal.refresh_from_db()
    assert normal.priority == Priority.HIGH
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    assert ticket.escalated_at is None


def test_an_urgent_ticket_breaching_stays_urgent(setup):
    SlaPolicy.objects.create(
        priority=Priority.URGENT, min_tier_rank=1, first_response_minutes=10, resolution_minutes=60
    )
    ticket = make_ticket(setup, priority=Priority.URGENT)
    assert tickets_watch(now=at(2026, 6, 10, 9, 10)).escalated == [ticket.pk]
    ticket.refresh_from_db()
    assert ticket.priority == Priority.URGENT
    assert ticket.escalated_at is not None


def test_waiting_resolved_and_responded_tickets_are_not_warned(setup):
    waiting = make_ticket(setup, status=Ticket.Status.WAITING, waiting_since=CREATED)
    resolved = make_ticket(setup, status=Ticket.Status.RESOLVED)
    responded = make_ticket(setup, first_responded_at=at(2026, 6, 10, 9, 5))
    result = tickets_watch(now=at(2026, 6, 10, 11, 0))
    assert result.warned["response"] == result.breached["response"] == []
    assert result.warned["resolution"] == []
    assert result.breached["resolution"] == []
    assert {waiting.pk, resolved.pk, responded.pk}.isdisjoint(set(result.escalated))


def test_a_ticket_without_assignee_or_team_is_marked_without_messages(setup):
    ticket = make_ticket(setup)
    Ticket.objects.filter(pk=ticket.pk).update(assignee=None, team=None)
    result = tickets_watch(now=at(2026, 6, 10, 10, 0))
    assert result.breached["response"] == [ticket.pk]
    assert result.messages == 0


def _bulk_due(setup, count: int) -> None:
    template = make_ticket(setup)
    Ticket.objects.bulk_create(
        Ticket(
            customer=template.customer,
            team=setup["team"],
            assignee=setup["agent"],
            department="customer_service",
            category="card",
            subject=f"Ticket {n}",
            status=Ticket.Status.OPEN,
            created_at=CREATED,
            **{f: getattr(template, f) for f in SLA_FIELDS if f not in ("calendar", "sla_policy")},
        )
        for n in range(count - 1)
    )


@pytest.mark.parametrize("count", [5, 50])
def test_the_watcher_runs_a_constant_number_of_queries(setup, count, django_assert_num_queries):
    _bulk_due(setup, count)
    ticket_templates_seed()
    with django_assert_num_queries(12):
        # savepoint, 2 warning UPDATEs, 2 breach UPDATEs, templates, 2 warning and 2 breach
        # INSERTs into the outbox, the history INSERT, release
        result = tickets_watch(now=at(2026, 6, 11, 9, 0))
    assert result.summary()["messages"] == count * (2 + 2 * 2)


def test_staff_messages_go_to_the_staff_email_without_consent(setup, outbox_file):
    ticket = make_ticket(setup)
    nobody = UserFactory(email="")
    TeamMembership.objects.create(
        team=setup["team"], user=nobody, role=TeamMembership.Role.SUPERVISOR
    )
    tickets_watch(now=at(2026, 6, 10, 10, 0))
    result = outbox_dispatch()
    assert result.sent == 3
    assert result.refused == {"no_address": 1}
    warning = Message.objects.get(occasion=f"ticket:{ticket.pk}:response-warning")
    assert warning.recipient == "agent@example.com"
    assert f"#{ticket.pk}" in warning.subject
    assert "Card blocked" in warning.subject
    assert f"/admin/workflows/ticket/{ticket.pk}/change/" in warning.body
    breach = Message.objects.get(staff_recipient=setup["supervisors"][0])
    assert breach.state == "sent"
    assert breach.recipient == "sup0@example.com"
    assert "late" in breach.body or "超时" in breach.body
    refused = Message.objects.get(staff_recipient=nobody)
    assert (refused.state, refused.refusal) == ("refused", "no_address")


def test_seeding_twice_creates_nothing_new(db):
    from workflows.tickets.seeds import ticket_sla_defaults_seed, ticket_templates_seed

    assert ticket_templates_seed() == 4
    assert ticket_sla_defaults_seed() == (1, 8)
    assert ticket_templates_seed() == 0
    assert ticket_sla_defaults_seed() == (0, 0)
