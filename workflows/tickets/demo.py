"""Demo tickets for `make demo`: the demo staff as agents, and tickets opened through the same
service as the API (routed, timed, assigned), some answered, waiting or resolved."""

from django.contrib.auth import get_user_model
from django.db import transaction

from crm.models import Customer
from workflows.models import AgentProfile, Ticket
from workflows.models.tickets import Department, Priority, TicketCategory, TicketChannel
from workflows.tickets.services import ticket_create, ticket_note_add, ticket_transition

AGENTS = {"rm1": Department.CUSTOMER_SERVICE, "rm2": Department.TECH_SUPPORT}
SUBJECTS = [
    (TicketCategory.POINTS, "积分兑换的礼品还没收到"),
    (TicketCategory.APP, "手机银行登录后闪退"),
    (TicketCategory.CARD, "Card blocked after travelling abroad"),
    (TicketCategory.COMPLAINT, "网点排队时间太长"),
    (TicketCategory.SALES, "想了解理财产品"),
    (TicketCategory.PAYMENT, "Payment charged twice"),
]


@transaction.atomic
def tickets_demo_seed(*, tickets: int = 30) -> int:
    """Agents and `tickets` demo tickets when there are none yet; how many were opened."""
    users = {user.username: user for user in get_user_model().objects.filter(username__in=AGENTS)}
    for username, department in AGENTS.items():
        if username in users:
            AgentProfile.objects.get_or_create(
                user=users[username], defaults={"department": department}
            )
    if Ticket.objects.filter(external_id__startswith="demo-").exists():
        return 0
    agent = next(iter(users.values()), None)
    for index, customer in enumerate(Customer.objects.order_by("pk")[:tickets]):
        category, subject = SUBJECTS[index % len(SUBJECTS)]
        ticket, _created = ticket_create(
            customer=customer,
            category=category,
            subject=subject,
            channel=list(TicketChannel.values)[index % len(TicketChannel.values)],
            priority=list(Priority.values)[index % len(Priority.values)],
            external_id=f"demo-{index}",
        )
        if index % 3 and agent is not None:
            ticket_note_add(ticket=ticket, kind="reply", body="我们正在处理。", author=agent)
        if index % 3 == 2 and agent is not None:
            ticket_transition(ticket=ticket, to_status=Ticket.Status.RESOLVED, by=agent)
        elif index % 5 == 1 and agent is not None:
            ticket_transition(ticket=ticket, to_status=Ticket.Status.WAITING, by=agent)
    return tickets
