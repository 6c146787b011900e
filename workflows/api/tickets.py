"""API v1 of service tickets: open one (from the app or a call-centre system, idempotent on its
external id), list and read them (scoped by `ticket_visibility_q`: an RM their customers', a
supervisor their teams', an agent those assigned to them), change a status through the state
machine, add a reply or an internal note. Writes go through workflows/tickets/services.py;
their ValidationError (an invalid transition included) comes back as a 400 with its message.
"""

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import NewestFirstCursorPagination
from crm.filters import IdFilter
from crm.models import Customer
from crm.selectors import customer_get
from workflows.models import Ticket, TicketNote
from workflows.models.tickets import Department, Priority, TicketCategory, TicketChannel
from workflows.tickets.selectors import ticket_get, ticket_list
from workflows.tickets.services import ticket_create, ticket_note_add, ticket_transition


def _permission(codename: str) -> type[BasePermission]:
    class HasPermission(BasePermission):
        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.has_perm(f"workflows.{codename}"))

    HasPermission.__name__ = f"Has_{codename}"
    return HasPermission


# --- Serializers ------------------------------------------------------------------------------


class TicketCreateInputSerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1)
    category = serializers.ChoiceField(choices=TicketCategory.choices)
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    channel = serializers.ChoiceField(choices=TicketChannel.choices, default=TicketChannel.API)
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.NORMAL)
    external_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text=_("Your system's id: a second request with it returns the first ticket."),
    )


class TicketOutputSerializer(serializers.ModelSerializer):
    assignee: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = Ticket
        fields = [
            "id",
            "customer",
            "team",
            "department",
            "category",
            "priority",
            "status",
            "channel",
            "subject",
            "description",
            "assignee",
            "external_id",
            "parent",
            "created_at",
            "assigned_at",
            "first_response_due_at",
            "resolution_due_at",
            "first_responded_at",
            "waiting_since",
            "resolved_at",
            "closed_at",
            "reopened_count",
            "response_breached_at",
            "resolution_breached_at",
            "survey_invitation",
        ]
        read_only_fields = fields


class StatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=10_000)


class ReplyInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=10_000)
    internal = serializers.BooleanField(
        default=False, help_text=_("An internal note (staff only) instead of a public reply.")
    )


class NoteOutputSerializer(serializers.ModelSerializer):
    author: serializers.SlugRelatedField = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )

    class Meta:
        model = TicketNote
        fields = ["id", "ticket", "kind", "body", "author", "created_at"]
        read_only_fields = fields


# --- Filters ----------------------------------------------------------------------------------


class TicketFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Ticket.Status.choices, label=_("status"))
    priority = filters.TypedChoiceFilter(choices=Priority.choices, coerce=int, label=_("priority"))
    department = filters.ChoiceFilter(choices=Department.choices, label=_("department"))
    customer = IdFilter(field_name="customer_id", label=_("customer"))
    breached = filters.BooleanFilter(method="filter_breached", label=_("SLA breached"))

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_breached(self, queryset, name, value):
        breached = Q(response_breached_at__isnull=False) | Q(resolution_breached_at__isnull=False)
        return queryset.filter(breached) if value else queryset.exclude(breached)


# --- Views ------------------------------------------------------------------------------------


def _visible_ticket(request, pk: int) -> Ticket:
    try:
        return ticket_get(user=request.user, ticket_id=pk)
    except Ticket.DoesNotExist:
        raise NotFound from None


def _output(ticket: Ticket) -> dict:
    ticket = Ticket.objects.select_related("assignee").get(pk=ticket.pk)
    return TicketOutputSerializer(ticket).data


@extend_schema(tags=["tickets"])
class TicketListCreateView(ListAPIView):
    serializer_class = TicketOutputSerializer
    filterset_class = TicketFilter
    pagination_class = NewestFirstCursorPagination
    parser_classes = [JSONParser]

    def get_permissions(self):
        codename = "add_ticket" if self.request.method == "POST" else "view_ticket"
        return [IsAuthenticated(), _permission(codename)()]

    def get_queryset(self):
        return ticket_list(user=self.request.user).select_related("assignee")

    @extend_schema(operation_id="tickets_list")
    def get(self, request, *args, **kwargs):
        """Tickets the caller may see, newest first, cursor-paginated. Filters: status,
        priority, department, customer, breached (true: a first response or resolution
        deadline was missed)."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="tickets_create",
        request=TicketCreateInputSerializer,
        responses={
            201: OpenApiResponse(TicketOutputSerializer, _("Opened.")),
            200: OpenApiResponse(TicketOutputSerializer, _("Opened before with this external id.")),
            400: OpenApiResponse(description=_("Invalid fields; nothing was stored.")),
            409: OpenApiResponse(description=_("The external id is another caller's ticket.")),
        },
    )
    def post(self, request):
        """Open a ticket for a customer the caller may see: routed to a department, its SLA
        clock started and given to the least-loaded available agent. With `external_id`, a
        second request returns the first ticket (200) whatever else it says."""
        data = TicketCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            customer = customer_get(user=request.user, customer_id=values["customer"])
        except Customer.DoesNotExist:
            raise serializers.ValidationError(
                {"customer": [_("No such customer, or not yours to see.")]},
                code="unknown_customer",
            ) from None
        with transaction.atomic():
            ticket, created = ticket_create(
                customer=customer,
                category=values["category"],
                subject=values["subject"],
                description=values.get("description", ""),
                channel=values["channel"],
                priority=int(values["priority"]),
                external_id=values.get("external_id", ""),
                created_by=request.user,
            )
        if not created and not ticket_list(user=request.user).filter(pk=ticket.pk).exists():
            return Response(
                {"external_id": [_("This external id is already used by another ticket.")]},
                status=status.HTTP_409_CONFLICT,
            )
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(_output(ticket), status=code)


@extend_schema(tags=["tickets"])
class TicketDetailView(APIView):
    permission_classes = [IsAuthenticated, _permission("view_ticket")]

    @extend_schema(
        operation_id="tickets_retrieve",
        responses={
            200: TicketOutputSerializer,
            404: OpenApiResponse(description=_("No such ticket.")),
        },
    )
    def get(self, request, pk: int):
        """One ticket the caller may see."""
        return Response(_output(_visible_ticket(request, pk)))


@extend_schema(tags=["tickets"])
class TicketStatusView(APIView):
    permission_classes = [IsAuthenticated, _permission("change_ticket")]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="tickets_status",
        request=StatusInputSerializer,
        responses={
            200: TicketOutputSerializer,
            400: OpenApiResponse(description=_("Not allowed from the current status (why).")),
            404: OpenApiResponse(description=_("No such ticket.")),
        },
    )
    def post(self, request, pk: int):
        """Move the ticket to another status: new -> open | waiting | resolved, open ->
        waiting | resolved, waiting -> open | resolved, resolved -> closed | open (reopened,
        within the reopen window); closed is final. `note` is kept as an internal note."""
        data = StatusInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = _visible_ticket(request, pk)
        ticket = ticket_transition(
            ticket=ticket,
            to_status=data.validated_data["status"],
            by=request.user,
            note=data.validated_data.get("note", ""),
        )
        return Response(_output(ticket))


@extend_schema(tags=["tickets"])
class TicketReplyView(APIView):
    permission_classes = [IsAuthenticated, _permission("change_ticket")]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="tickets_replies_create",
        request=ReplyInputSerializer,
        responses={
            201: NoteOutputSerializer,
            400: OpenApiResponse(description=_("Empty, or a reply to a closed ticket.")),
            404: OpenApiResponse(description=_("No such ticket.")),
        },
    )
    def post(self, request, pk: int):
        """Add a public reply (the first one is the SLA's first response) or, with
        `internal: true`, an internal note."""
        data = ReplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ticket = _visible_ticket(request, pk)
        kind = (
            TicketNote.Kind.INTERNAL if data.validated_data["internal"] else TicketNote.Kind.REPLY
        )
        note = ticket_note_add(
            ticket=ticket, kind=kind, body=data.validated_data["body"], author=request.user
        )
        return Response(NoteOutputSerializer(note).data, status=status.HTTP_201_CREATED)
