"""API v1 of loyalty: read-only. A customer's memberships are scoped like crm's customers
(another RM's customer is 404); the tier distribution counts only the customers the caller may
see."""

import logging

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.models import Customer
from crm.selectors import customer_get
from loyalty.api.serializers import (
    CustomerMembershipsOutputSerializer,
    TierDistributionOutputSerializer,
)
from loyalty.explain import memberships_explain
from loyalty.models import Program
from loyalty.selectors import tier_distribution_get

logger = logging.getLogger(__name__)


class CanViewMemberships(BasePermission):
    """Memberships are loyalty's to show: RMs and supervisors have the permission."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("loyalty.view_membership"))


PERMISSIONS = [IsAuthenticated, CanViewMemberships]


@extend_schema(tags=["loyalty"])
class CustomerMembershipsView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        operation_id="loyalty_customer_memberships",
        responses={
            200: CustomerMembershipsOutputSerializer,
            404: OpenApiResponse(description=_("No such customer, or not the caller's to see.")),
        },
    )
    def get(self, request, customer_id: int):
        """The customer's membership of each active program, explained as of today.

        Per program: the tier and since when (or null: not evaluated yet), every tier's criteria
        with the customer's values and whether they hold, the distance to the next tier per
        criterion group ("12,000.00 more spend (card) within a 12-month window"), the open
        downgrade warning, a grace period, a credit block, what tonight's evaluation will do if
        nothing changes today, and the last changes and warnings. The values are the
        evaluation's own: the explanation runs the same SQL for this one customer.
        """
        try:
            customer = customer_get(user=request.user, customer_id=customer_id)
        except Customer.DoesNotExist:
            raise NotFound from None
        as_of = timezone.localdate()
        explanations = memberships_explain(customer=customer, as_of=as_of)
        # Who looked at which customer (ids only: no personal data in logs).
        logger.info("API memberships view: customer=%s user=%s", customer.pk, request.user.pk)
        data = {"customer": customer.pk, "as_of": as_of, "programs": explanations}
        return Response(CustomerMembershipsOutputSerializer(data).data)


@extend_schema(tags=["loyalty"])
class ProgramDistributionView(APIView):
    permission_classes = PERMISSIONS

    @extend_schema(
        operation_id="loyalty_program_distribution",
        responses={
            200: TierDistributionOutputSerializer,
            404: OpenApiResponse(description=_("No program with this code.")),
        },
    )
    def get(self, request, code: str):
        """Members per tier of the program, and customers not evaluated yet.

        Counted over the customers the caller may see: an RM their own, a supervisor their
        teams', a user who sees every customer all of them.
        """
        program = Program.objects.filter(code=code).first()
        if program is None:
            raise NotFound
        distribution = tier_distribution_get(program=program, user=request.user)
        return Response(TierDistributionOutputSerializer(distribution).data)
