"""API v1 of the points ledger: a customer's balances, an account's entries, and earning for
systems that compute their own points.

Scoped like crm's customers: another RM's customer is 404. Reads need `view_pointsentry`;
earning needs `add_pointsentry`, which no staff group holds: it is for system users (grant it
to the integration's user in admin, then `manage.py create_api_token <username>`).

The earn endpoint is hot (load-tested by bench.points): its account lookup is one query that
also checks visibility and loads the program, and the posting is the ledger's guarded UPDATE
and two INSERTs in one transaction. Its entry is its own idempotency record: the entry's
unique key is the caller's key (`api:{user}:{key}`) with the request's fingerprint, and the
answer is the entry, so a replay finds it and answers the same without a second table.
"""

import logging

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import NewestFirstCursorPagination
from crm.api.serializers import StrictInputSerializer, choice_field_class
from crm.models import Customer
from crm.selectors import customer_get
from loyalty.api.idempotency import (
    HEADER,
    REPLAYED_HEADER,
    KeyReusedError,
    fingerprint,
    request_key,
)
from loyalty.models import PointsEntry, Program
from loyalty.points_selectors import (
    points_account_get,
    points_entries,
    points_expiring_until,
    points_summary,
)
from loyalty.services.ledger import KeyReused, account_get_or_create
from loyalty.services.points import MAX_EARN_POINTS, points_api_key, points_earn_reported

logger = logging.getLogger(__name__)

PointsEntryKindField = choice_field_class("PointsEntryKind", PointsEntry.Kind.choices)
NOT_FOUND = OpenApiResponse(description=_("No such customer or program, or not the caller's."))


class CanViewPoints(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("loyalty.view_pointsentry"))


class CanEarnPoints(BasePermission):
    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("loyalty.add_pointsentry"))


# --- Serializers ------------------------------------------------------------------------------


class ExpiringOutputSerializer(serializers.Serializer):
    expires_on = serializers.DateField()
    points = serializers.IntegerField()


class ProgramPointsOutputSerializer(serializers.Serializer):
    program = serializers.CharField(source="program.code")
    program_name = serializers.CharField(source="program.name")
    balance = serializers.IntegerField(help_text=_("May be negative after a refund."))
    expiring_soon = serializers.IntegerField(
        help_text=_("Open points that expire by `expiring_until`.")
    )
    expiring = ExpiringOutputSerializer(many=True, help_text=_("The same, per expiry date."))


class CustomerPointsOutputSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    as_of = serializers.DateField()
    expiring_until = serializers.DateField()
    programs = ProgramPointsOutputSerializer(many=True)


class PointsEntryOutputSerializer(serializers.ModelSerializer):
    kind = PointsEntryKindField()
    reason = serializers.CharField(source="note")

    class Meta:
        model = PointsEntry
        fields = [
            "id",
            "kind",
            "points",
            "occurred_on",
            "expires_on",
            "reason",
            "details",
            "transaction",
            "reverses",
            "created_at",
        ]


class EarnInputSerializer(StrictInputSerializer):
    points = serializers.IntegerField(min_value=1, max_value=MAX_EARN_POINTS)
    reason = serializers.CharField(max_length=500)
    occurred_on = serializers.DateField(
        required=False, help_text=_("The local day the points were earned; default today.")
    )

    def validate_occurred_on(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError(_("The day cannot be in the future."))
        return value


class EarnOutputSerializer(PointsEntryOutputSerializer):
    """The entry alone, so that a replay answers exactly the same (a balance would move)."""

    customer = serializers.IntegerField(source="account.customer_id")
    program = serializers.CharField(source="account.program.code")

    class Meta(PointsEntryOutputSerializer.Meta):
        fields = ["customer", "program", *PointsEntryOutputSerializer.Meta.fields]


# --- Views ------------------------------------------------------------------------------------


def _customer_or_404(request, customer_id: int) -> Customer:
    try:
        return customer_get(user=request.user, customer_id=customer_id)
    except Customer.DoesNotExist:
        raise NotFound from None


@extend_schema(tags=["loyalty"])
class CustomerPointsView(APIView):
    permission_classes = [IsAuthenticated, CanViewPoints]

    @extend_schema(
        operation_id="loyalty_customer_points",
        responses={200: CustomerPointsOutputSerializer, 404: NOT_FOUND},
    )
    def get(self, request, customer_id: int):
        """The customer's balance in each program they have points in, and the open points
        that expire within the next LOYALTY_EXPIRING_SOON_DAYS days (30 by default)."""
        customer = _customer_or_404(request, customer_id)
        as_of = timezone.localdate()
        data = {
            "customer": customer.pk,
            "as_of": as_of,
            "expiring_until": points_expiring_until(as_of),
            "programs": points_summary(customer=customer, as_of=as_of),
        }
        return Response(CustomerPointsOutputSerializer(data).data)


class NewestIdFirstCursorPagination(NewestFirstCursorPagination):
    """Entries are numbered in posting order: the (account, id) index pages them."""

    ordering = ("-id",)


@extend_schema(tags=["loyalty"])
class PointsEntryListView(ListAPIView):
    permission_classes = [IsAuthenticated, CanViewPoints]
    serializer_class = PointsEntryOutputSerializer
    pagination_class = NewestIdFirstCursorPagination
    filter_backends: list = []

    @extend_schema(
        operation_id="loyalty_customer_points_entries",
        responses={200: PointsEntryOutputSerializer(many=True), 404: NOT_FOUND},
    )
    def get(self, request, *args, **kwargs):
        """The account's entries, newest first, cursor-paginated (`next`, `previous`): earn,
        redeem, expire, adjust and reverse, each with its reason and details."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        customer_id, code = self.kwargs["customer_id"], self.kwargs["program_code"]
        account = points_account_get(
            user=self.request.user, customer_id=customer_id, program_code=code
        )
        if account is not None:
            return points_entries(account_id=account.pk)
        # No account yet: an empty list for a customer and program that exist, else 404.
        _customer_or_404(self.request, customer_id)
        if not Program.objects.filter(code=code).exists():
            raise NotFound
        return PointsEntry.objects.none()


@extend_schema(tags=["loyalty"])
class PointsEarnView(APIView):
    permission_classes = [IsAuthenticated, CanEarnPoints]

    @extend_schema(
        operation_id="loyalty_customer_points_earn",
        request=EarnInputSerializer,
        parameters=[
            OpenApiParameter(
                HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=True,
                description=_("Unique per request (1 to 255 characters); a retry sends it again."),
            )
        ],
        responses={
            201: OpenApiResponse(EarnOutputSerializer, _("Posted (or replayed: same key).")),
            400: OpenApiResponse(description=_("Invalid input; nothing was posted.")),
            404: NOT_FOUND,
            422: OpenApiResponse(description=_("The key was used for a different request.")),
        },
    )
    def post(self, request, customer_id: int, program_code: str):
        """Credit points the calling system computed itself (kind "earn").

        `{"points": 1..1000000, "reason": "...", "occurred_on": "YYYY-MM-DD"}` (optional, not
        in the future; default today). The points expire as the program says, counted from
        `occurred_on`. Send an `Idempotency-Key` header: the same key and body again gets the
        same answer (header `Idempotent-Replayed: true`) and posts nothing; the same key with a
        different body is refused with 422.
        """
        data = EarnInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = points_account_get(
            user=request.user, customer_id=customer_id, program_code=program_code
        )
        if account is None:
            account = self._account_open(request, customer_id, program_code)
        payload = {**data.validated_data}
        try:
            posting = points_earn_reported(
                actor=request.user,
                account=account,
                key=points_api_key(user_id=request.user.pk, key=request_key(request)),
                fingerprint=fingerprint(f"{request.method} {request.path}", payload),
                **payload,
            )
        except KeyReused:
            raise KeyReusedError from None
        headers = {} if posting.created else {REPLAYED_HEADER: "true"}
        body = EarnOutputSerializer(posting.entry).data
        return Response(body, status=status.HTTP_201_CREATED, headers=headers)

    def _account_open(self, request, customer_id: int, program_code: str):
        """The first points of a customer in a program open the account."""
        customer = _customer_or_404(request, customer_id)
        program = Program.objects.filter(code=program_code).first()
        if program is None:
            raise NotFound
        account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
        account.program = program
        return account
