"""Service tickets: routed to a department and its least-loaded available agent, timed against
an SLA in the team's business hours, escalated once when late, closed by a survey.

Status is a state machine (workflows/tickets/states.py):

    new -> open -> waiting (on the customer) -> open ...
    new | open | waiting -> resolved -> closed        resolved -> open (reopened, within N days)

The SLA clock is a pair of deadlines in the database (`first_response_due_at`,
`resolution_due_at`), computed in business minutes of the ticket's calendar and pushed back
when a wait on the customer ends; a beat task polls them set-based. Each warning, breach and
escalation has its own timestamp, set by a guarded UPDATE, so it happens once.

Lists sort open tickets by the nearer deadline still running (`sla_due_at`). It is a column the
database computes from the deadlines and the status (a generated column), so every writer keeps
it right, the raw-SQL ones too, and an index on (team, is_open, sla_due_at) serves the team lists.
"""

from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Department(models.TextChoices):
    CUSTOMER_SERVICE = "customer_service", _("Customer service")
    TECH_SUPPORT = "tech_support", _("Tech support")
    SALES = "sales", _("Sales")


class Priority(models.IntegerChoices):
    """Ordered: an escalation raises a ticket one step."""

    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class TicketCategory(models.TextChoices):
    ACCOUNT = "account", _("Account")
    CARD = "card", _("Card")
    PAYMENT = "payment", _("Payment")
    POINTS = "points", _("Points and rewards")
    DELIVERY = "delivery", _("Delivery")
    APP = "app", _("App and online banking")
    COMPLAINT = "complaint", _("Complaint")
    SALES = "sales", _("Product enquiry")
    OTHER = "other", pgettext_lazy("ticket category", "Other")


class TicketChannel(models.TextChoices):
    PHONE = "phone", _("Phone")
    APP = "app", _("App")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    BRANCH = "branch", _("Branch")
    API = "api", _("Other system (API)")


class BusinessCalendar(models.Model):
    """A team's working time: shifts per working day (a lunch break is two shifts), weekends
    off, and China's public holidays and adjusted working days (the `holidays` library) unless
    turned off; CalendarDay rows override single days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    shifts = models.JSONField(
        _("shifts"),
        default=list,
        help_text=_(
            'Local working hours of a working day, e.g. [["09:00", "12:00"], ["13:00", "18:00"]].'
        ),
    )
    china_holidays = models.BooleanField(
        _("China's public holidays and adjusted working days"), default=True
    )
    is_default = models.BooleanField(
        _("default"), default=False, help_text=_("For teams without a calendar of their own.")
    )
    teams = models.ManyToManyField(
        "crm.Team", blank=True, related_name="business_calendars", verbose_name=_("teams")
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="calendar_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CalendarDay(models.Model):
    """One day that differs from the rule: a company holiday, or a working day with other hours."""

    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.CASCADE,
        related_name="days",
        verbose_name=_("calendar"),
        db_index=False,  # the unique (calendar, day) serves it
    )
    day = models.DateField(_("day"))
    is_working = models.BooleanField(_("working day"))
    shifts = models.JSONField(
        _("shifts"), default=list, blank=True, help_text=_("Empty: the calendar's shifts.")
    )
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar", "day"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "day"], name="calendar_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} ({'working' if self.is_working else 'off'})"


class AgentProfile(models.Model):
    """A staff member who takes tickets: their department and whether they are away."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="agent_profile",
        verbose_name=_("user"),
    )
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    is_away = models.BooleanField(_("away"), default=False)

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["department", "user"]
        indexes = [
            models.Index(fields=["department"], name="agent_available", condition=Q(is_away=False))
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_department_display()})"


class RoutingRule(models.Model):
    """Which department takes a ticket: the first active rule, by order, whose category matches
    (empty: any) and, if it has keywords, one of them is in the subject or description."""

    order = models.PositiveSmallIntegerField(_("order"))
    category = models.CharField(
        _("category"), max_length=20, choices=TicketCategory.choices, blank=True
    )
    keywords = models.TextField(
        _("keywords"),
        blank=True,
        help_text=_('Chinese or English, separated by "/", commas or new lines; empty: any.'),
    )
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return f"{self.order}: {self.category or '*'} → {self.get_department_display()}"


class SlaPolicy(models.Model):
    """Targets in business minutes by priority and the customer's tier: the policy of the
    ticket's priority with the highest `min_tier_rank` the customer reaches applies."""

    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    min_tier_rank = models.PositiveSmallIntegerField(
        _("from tier rank"),
        default=1,
        help_text=_("The customer's highest tier rank in any program must be at least this."),
    )
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["priority", "min_tier_rank"]
        constraints = [
            models.UniqueConstraint(fields=["priority", "min_tier_rank"], name="sla_policy_unique"),
            models.CheckConstraint(
                condition=Q(first_response_minutes__lte=models.F("resolution_minutes")),
                name="sla_policy_response_before_resolution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_priority_display()} / rank ≥ {self.min_tier_rank}"


OPEN_STATUS_VALUES = ("new", "open", "waiting")


def _open_q() -> Q:
    return Q(status__in=OPEN_STATUS_VALUES)


def _sla_due_expression() -> Case:
    """The nearer deadline still running: first response (until answered) or resolution; none
    once the ticket is resolved. LEAST is NULL on SQLite if either side is, hence Coalesce."""
    response_due = Case(
        When(first_responded_at__isnull=True, then=F("first_response_due_at")), default=None
    )
    resolution_due = F("resolution_due_at")
    return Case(
        When(
            _open_q(),
            then=Least(
                Coalesce(response_due, resolution_due), Coalesce(resolution_due, response_due)
            ),
        ),
        default=None,
    )


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting on customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.WAITING)

    id = models.BigAutoField(primary_key=True)
    customer = models.ForeignKey(
        "crm.Customer",
        on_delete=models.PROTECT,
        related_name="tickets",
        verbose_name=_("customer"),
        db_index=False,  # the (customer, created_at) index serves it
    )
    team = models.ForeignKey(
        "crm.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("team"),
        help_text=_("The customer's team when the ticket was opened: its supervisors see it."),
        db_index=False,  # the (team, status) index serves it
    )
    department = models.CharField(_("department"), max_length=20, choices=Department.choices)
    category = models.CharField(_("category"), max_length=20, choices=TicketCategory.choices)
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.NEW
    )
    channel = models.CharField(
        _("channel"), max_length=10, choices=TicketChannel.choices, default=TicketChannel.PHONE
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
        db_index=False,  # the (assignee, status) index serves it
    )
    external_id = models.CharField(
        _("external id"),
        max_length=100,
        blank=True,
        help_text=_("The id in the system that opened it (app, call centre): unique."),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="follow_ups",
        verbose_name=_("follow-up of"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    # Assignment and the agent's last action (for offering an idle ticket to another agent).
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    agent_acted_at = models.DateTimeField(_("agent last acted at"), null=True, blank=True)
    # The SLA clock (see the module's docstring).
    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA policy"),
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("business calendar"),
    )
    first_response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first response at"), null=True, blank=True)
    waiting_since = models.DateTimeField(_("waiting on customer since"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    reopened_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    # When 80% of each target has passed, in business time (workflows/tickets/sla.py): SQL
    # cannot count business minutes, so the watcher compares these with now.
    response_warn_at = models.DateTimeField(_("first response warning due"), null=True, blank=True)
    resolution_warn_at = models.DateTimeField(_("resolution warning due"), null=True, blank=True)
    response_warned_at = models.DateTimeField(_("first response warning at"), null=True, blank=True)
    resolution_warned_at = models.DateTimeField(_("resolution warning at"), null=True, blank=True)
    response_breached_at = models.DateTimeField(
        _("first response breached at"), null=True, blank=True
    )
    resolution_breached_at = models.DateTimeField(
        _("resolution breached at"), null=True, blank=True
    )
    escalated_at = models.DateTimeField(_("priority raised at"), null=True, blank=True)
    # Business minutes of the ticket's calendar from opening to the first response and to the
    # resolution (waits on the customer included), set when each happens: the reports average them.
    first_response_business_minutes = models.PositiveIntegerField(
        _("first response after (business minutes)"), null=True, blank=True
    )
    resolution_business_minutes = models.PositiveIntegerField(
        _("resolved after (business minutes)"), null=True, blank=True
    )
    # The satisfaction survey sent on resolve (once; its answer is the invitation's response).
    survey_invitation = models.ForeignKey(
        "FeedbackInvitation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("satisfaction survey"),
    )

    # Computed by the database (see the module's docstring); never written by the code.
    is_open = models.GeneratedField(
        expression=Case(When(_open_q(), then=Value(True)), default=Value(False)),
        output_field=models.BooleanField(),
        db_persist=True,
        verbose_name=_("open"),
    )
    sla_due_at = models.GeneratedField(
        expression=_sla_due_expression(),
        output_field=models.DateTimeField(),
        db_persist=True,
        verbose_name=_("SLA due"),
    )

    history = HistoricalRecords(excluded_fields=["is_open", "sla_due_at"])

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="ticket_customer_newest"),
            models.Index(fields=["assignee", "status"], name="ticket_assignee_status"),
            models.Index(fields=["team", "status", "resolution_due_at"], name="ticket_team_due"),
            # The team list: open first, the nearest deadline first (workflows/admin/tickets.py).
            models.Index(fields=["team", "-is_open", "sla_due_at", "-id"], name="ticket_team_sla"),
            models.Index(
                fields=["assignee", "-is_open", "sla_due_at", "-id"], name="ticket_assignee_sla"
            ),
            models.Index(
                fields=["first_response_due_at"],
                name="ticket_response_clock",
                condition=Q(
                    status__in=["new", "open"],
                    first_responded_at__isnull=True,
                    response_breached_at__isnull=True,
                ),
            ),
            models.Index(
                fields=["resolution_due_at"],
                name="ticket_resolution_clock",
                condition=Q(status__in=["new", "open"], resolution_breached_at__isnull=True),
            ),
            models.Index(
                fields=["response_warn_at"],
                name="ticket_response_warning",
                condition=Q(
                    status__in=["new", "open"],
                    first_responded_at__isnull=True,
                    response_warned_at__isnull=True,
                ),
            ),
            models.Index(
                fields=["resolution_warn_at"],
                name="ticket_resolution_warning",
                condition=Q(status__in=["new", "open"], resolution_warned_at__isnull=True),
            ),
            models.Index(
                fields=["assigned_at"],
                name="ticket_idle_assignment",
                condition=Q(status__in=["new", "open"], agent_acted_at__isnull=True),
            ),
            models.Index(fields=["created_at"], name="ticket_created"),
            models.Index(fields=["resolved_at"], name="ticket_resolved"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="ticket_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"


class TicketNote(models.Model):
    """An internal note (staff only) or a public reply (the customer sees it)."""

    class Kind(models.TextChoices):
        INTERNAL = "internal", _("Internal note")
        REPLY = "reply", _("Public reply")

    id = models.BigAutoField(primary_key=True)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="notes", verbose_name=_("ticket")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket note")
        verbose_name_plural = _("ticket notes")
        ordering = ["ticket", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_kind_display()}"


class TicketAttachment(models.Model):
    """A file on a ticket, stored through Django's storage API under a name we generate."""

    id = models.BigAutoField(primary_key=True)
    ticket = models.ForeignKey(
        Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket")
    )
    file = models.FileField(_("file"), upload_to="tickets/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["ticket", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name
