"""Ticket reports for supervisors: tickets opened and resolved per day, SLA attainment per
department, agent and priority, average times to first response and to resolution, and the top
categories, over the local days first..last (both included).

Every figure is one aggregate query (GROUP BY in the database, never a loop over tickets),
over the tickets the user may see. Opened counts use `created_at` (the `ticket_created`
index), everything about resolution the tickets resolved in the range (`ticket_resolved`):

- resolution attainment: resolved at or before `resolution_due_at`, among those with one;
- first-response attainment: answered at or before `first_response_due_at`, among those with
  one (a ticket resolved without a first response counts as late);
- average times are business minutes of each ticket's calendar from opening to the first
  response and to resolution (waits on the customer included). The services store them on the
  ticket when each happens (`first_response_business_minutes`, `resolution_business_minutes`),
  so the averages are plain AVGs; tickets without them (resolved before they were kept) are
  left out of the averages.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from config.db import read_replica
from crm.selectors import User
from workflows.models import Ticket
from workflows.models.tickets import Department, Priority, TicketCategory

DEFAULT_DAYS = 30
MAX_DAYS = 366
TOP_CATEGORIES = 10
TOP_AGENTS = 50


@dataclass
class Day:
    day: date
    opened: int = 0
    resolved: int = 0

    @property
    def label(self) -> str:
        return self.day.isoformat()


@dataclass
class Attainment:
    """SLA figures of one group (a department, an agent, a priority) or of everything."""

    key: Any
    label: str
    resolved: int = 0
    resolution_due: int = 0
    resolution_on_time: int = 0
    response_due: int = 0
    response_on_time: int = 0
    average_response_minutes: float | None = None
    average_resolution_minutes: float | None = None

    @property
    def resolution_share(self) -> float | None:
        return _share(self.resolution_on_time, self.resolution_due)

    @property
    def response_share(self) -> float | None:
        return _share(self.response_on_time, self.response_due)

    @property
    def average_response_hours(self) -> float | None:
        return _hours(self.average_response_minutes)

    @property
    def average_resolution_hours(self) -> float | None:
        return _hours(self.average_resolution_minutes)


@dataclass
class CategoryCount:
    category: str
    label: str
    tickets: int
    share: float


@dataclass
class Report:
    first: date
    last: date
    days: list[Day] = field(default_factory=list)
    overall: Attainment | None = None
    by_department: list[Attainment] = field(default_factory=list)
    by_agent: list[Attainment] = field(default_factory=list)
    by_priority: list[Attainment] = field(default_factory=list)
    categories: list[CategoryCount] = field(default_factory=list)

    @property
    def opened(self) -> int:
        return sum(day.opened for day in self.days)

    @property
    def resolved(self) -> int:
        return sum(day.resolved for day in self.days)


def _share(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _hours(minutes: float | None) -> float | None:
    return None if minutes is None else minutes / 60


def default_range(*, days: int = DEFAULT_DAYS, today: date | None = None) -> tuple[date, date]:
    """The last `days` local days, today included."""
    today = today or timezone.localdate()
    return today - timedelta(days=days - 1), today


def local_range(first: date, last: date) -> tuple[datetime, datetime]:
    """The local days first..last (both included) as an aware [start, end)."""
    start = timezone.make_aware(datetime.combine(first, time.min))
    end = timezone.make_aware(datetime.combine(last + timedelta(days=1), time.min))
    return start, end


def _visible_tickets(user: User) -> QuerySet[Ticket]:
    from workflows.tickets.selectors import ticket_visibility_q

    return Ticket.objects.filter(ticket_visibility_q(user)).order_by()


_ATTAINMENT = {
    "resolved": Count("id"),
    "resolution_due": Count("id", filter=Q(resolution_due_at__isnull=False)),
    "resolution_on_time": Count("id", filter=Q(resolved_at__lte=F("resolution_due_at"))),
    "response_due": Count("id", filter=Q(first_response_due_at__isnull=False)),
    "response_on_time": Count("id", filter=Q(first_responded_at__lte=F("first_response_due_at"))),
    "average_response": Avg("first_response_business_minutes"),
    "average_resolution": Avg("resolution_business_minutes"),
}
ATTAINMENT_COUNTS = {
    name: aggregate for name, aggregate in _ATTAINMENT.items() if not name.startswith("average")
}
"""The attainment's counts alone: they add up across groups (the KPIs sum them per scope)."""


def _minutes(value) -> float | None:
    return None if value is None else float(value)


def _attainment(row: Mapping[str, Any], *, key: Any, label: str) -> Attainment:
    return Attainment(
        key=key,
        label=label,
        resolved=row["resolved"],
        resolution_due=row["resolution_due"],
        resolution_on_time=row["resolution_on_time"],
        response_due=row["response_due"],
        response_on_time=row["response_on_time"],
        average_response_minutes=_minutes(row["average_response"]),
        average_resolution_minutes=_minutes(row["average_resolution"]),
    )


def tickets_per_day(*, user: User, first: date, last: date) -> list[Day]:
    """Opened and resolved per local day, every day of the range (zeros included): two
    GROUP BY queries."""
    start, end = local_range(first, last)
    tickets = _visible_tickets(user)
    days = {
        first + timedelta(days=n): Day(first + timedelta(days=n))
        for n in range((last - first).days + 1)
    }
    opened = (
        tickets.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(count=Count("id"))
    )
    for row in opened:
        if row["day"] in days:
            days[row["day"]].opened = row["count"]
    resolved = (
        tickets.filter(resolved_at__gte=start, resolved_at__lt=end)
        .annotate(day=TruncDate("resolved_at"))
        .values("day")
        .annotate(count=Count("id"))
    )
    for row in resolved:
        if row["day"] in days:
            days[row["day"]].resolved = row["count"]
    return list(days.values())


def _resolved_in(user: User, first: date, last: date) -> QuerySet[Ticket]:
    start, end = local_range(first, last)
    return _visible_tickets(user).filter(resolved_at__gte=start, resolved_at__lt=end)


def sla_overall(*, user: User, first: date, last: date) -> Attainment:
    row = _resolved_in(user, first, last).aggregate(**_ATTAINMENT)
    return _attainment(row, key=None, label=gettext("All"))


def sla_by_department(*, user: User, first: date, last: date) -> list[Attainment]:
    rows = (
        _resolved_in(user, first, last)
        .values("department")
        .annotate(**_ATTAINMENT)
        .order_by("department")
    )
    return [
        _attainment(row, key=row["department"], label=_label(Department, row["department"]))
        for row in rows
    ]


def sla_by_priority(*, user: User, first: date, last: date) -> list[Attainment]:
    rows = (
        _resolved_in(user, first, last)
        .values("priority")
        .annotate(**_ATTAINMENT)
        .order_by("-priority")
    )
    return [
        _attainment(row, key=row["priority"], label=_label(Priority, row["priority"]))
        for row in rows
    ]


def sla_by_agent(*, user: User, first: date, last: date) -> list[Attainment]:
    """The agents who resolved the most tickets first (at most TOP_AGENTS), then unassigned."""
    rows = (
        _resolved_in(user, first, last)
        .values("assignee_id", "assignee__username", "assignee__first_name", "assignee__last_name")
        .annotate(**_ATTAINMENT)
        .order_by(F("resolved").desc(), "assignee__username")[:TOP_AGENTS]
    )
    return [_attainment(row, key=row["assignee_id"], label=_agent_label(row)) for row in rows]


def top_categories(*, user: User, first: date, last: date) -> list[CategoryCount]:
    """The categories of the tickets opened in the range, most first, with their share."""
    start, end = local_range(first, last)
    opened = _visible_tickets(user).filter(created_at__gte=start, created_at__lt=end)
    rows = list(
        opened.values("category").annotate(tickets=Count("id")).order_by("-tickets", "category")
    )
    total = sum(row["tickets"] for row in rows)
    return [
        CategoryCount(
            category=row["category"],
            label=_label(TicketCategory, row["category"]),
            tickets=row["tickets"],
            share=100.0 * row["tickets"] / total,
        )
        for row in rows[:TOP_CATEGORIES]
    ]


@read_replica()
def ticket_report(*, user: User, first: date, last: date) -> Report:
    """Everything the reports page shows: eight aggregate queries."""
    return Report(
        first=first,
        last=last,
        days=tickets_per_day(user=user, first=first, last=last),
        overall=sla_overall(user=user, first=first, last=last),
        by_department=sla_by_department(user=user, first=first, last=last),
        by_agent=sla_by_agent(user=user, first=first, last=last),
        by_priority=sla_by_priority(user=user, first=first, last=last),
        categories=top_categories(user=user, first=first, last=last),
    )


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def _agent_label(row: Mapping[str, Any]) -> str:
    if row["assignee_id"] is None:
        return gettext("Unassigned")
    full_name = f"{row['assignee__first_name']} {row['assignee__last_name']}".strip()
    return full_name or row["assignee__username"]


def chart_data(report: Report) -> dict:
    """What the charts draw (the tables under them show the same numbers)."""

    def rounded(value, digits=1):
        return None if value is None else round(value, digits)

    def attainment(rows: list[Attainment]) -> dict:
        return {
            "labels": [row.label for row in rows],
            "resolution": [rounded(row.resolution_share) for row in rows],
            "response": [rounded(row.response_share) for row in rows],
        }

    return {
        "days": {
            "labels": [day.label for day in report.days],
            "opened": [day.opened for day in report.days],
            "resolved": [day.resolved for day in report.days],
            "openedLabel": gettext("opened"),
            "resolvedLabel": gettext("resolved"),
        },
        "department": attainment(report.by_department),
        "agent": attainment(report.by_agent),
        "priority": attainment(report.by_priority),
        "resolutionLabel": gettext("resolved in time, %"),
        "responseLabel": gettext("first response in time, %"),
        "categories": {
            "labels": [row.label for row in report.categories],
            "tickets": [row.tickets for row in report.categories],
            "ticketsLabel": gettext("tickets opened"),
        },
    }
