"""API v1: redeem a reward, cancel a redemption, a customer's benefits and using one.

Every write carries an `Idempotency-Key` header (loyalty.api.idempotency): the same request
again replays the first answer, the same key with another body is a 422. The services get the
key `api:<user id>:<key>`, so that a key is the caller's own. Business refusals that a retry
will not fix are 409 with a code (`insufficient_points`, `out_of_stock`, `over_quota`); other
refusals are 400 with a code; a customer the caller may not see is a 404.
"""

import logging
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.models import Customer
from crm.selectors import customer_get, customer_visibility_q
from loyalty.api.idempotency import HEADER, KeyReusedError, idempotent, request_key
from loyalty.catalogue import benefits_held
from loyalty.models import Benefit, BenefitAllowance, BenefitUse, Redemption, Reward
from loyalty.services.benefits import benefit_use
from loyalty.services.rewards import redemption_cancel, reward_redeem

logger = logging.getLogger(__name__)

CONFLICT_CODES = {"insufficient_points", "out_of_stock", "over_quota"}


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _refusal(error: DjangoValidationError) -> Exception:
    """The service's refusal as the API answers it: a 409 for a conflict, a 422 for a reused
    key, else a 400; each with the service's code."""
    code = getattr(error, "code", None)
    if hasattr(error, "error_dict") or code is None:
        return error  # field errors: the exception handler makes them a 400
    body = {"detail": " ".join(error.messages), "code": code}
    if code in CONFLICT_CODES:
        return Conflict(detail=body)
    if code == "idempotency_key_reused":
        return KeyReusedError()
    return ValidationError(detail=body)


def _service_key(request, key: str) -> str:
    return f"api:{request.user.pk}:{key}"


def _permission(codename: str) -> type[BasePermission]:
    class HasPermission(BasePermission):
        def has_permission(self, request, view) -> bool:
            return bool(request.user and request.user.has_perm(codename))

    HasPermission.__name__ = f"Has_{codename.replace('.', '_')}"
    return HasPermission


def _visible_customer(request, customer_id: int) -> Customer:
    try:
        return customer_get(user=request.user, customer_id=customer_id)
    except Customer.DoesNotExist:
        raise NotFound from None


IDEMPOTENCY_HEADER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description=_(
        "1 to 255 characters, unique per request: the same request again replays the first "
        "answer; the same key with another request is a 422."
    ),
)


class ErrorOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


# --- Redemptions ----------------------------------------------------------------------------


class RedemptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.IntegerField(source="account.customer_id")
    program = serializers.CharField(source="account.program.code")
    reward = serializers.IntegerField(source="reward_id")
    reward_name = serializers.CharField(source="reward.display_name")
    points = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Redemption.Status.choices)
    balance = serializers.IntegerField(
        source="account.balance", help_text=_("The program's balance after this request.")
    )
    created_at = serializers.DateTimeField()
    cancelled_at = serializers.DateTimeField(allow_null=True)


def _redemption_body(redemption: Redemption) -> dict[str, Any]:
    redemption = Redemption.objects.select_related("account__program", "reward").get(
        pk=redemption.pk
    )
    return RedemptionOutputSerializer(redemption).data


@extend_schema(tags=["loyalty"])
class CustomerRedemptionsView(APIView):
    permission_classes = [IsAuthenticated, _permission("loyalty.add_redemption")]

    class RedeemInputSerializer(serializers.Serializer):
        reward = serializers.PrimaryKeyRelatedField(queryset=Reward.objects.all())

    @extend_schema(
        operation_id="loyalty_customer_redeem",
        parameters=[IDEMPOTENCY_HEADER],
        request=RedeemInputSerializer,
        responses={
            201: RedemptionOutputSerializer,
            400: OpenApiResponse(
                description=_(
                    "A bad body, or the reward cannot be redeemed (codes reward_not_available, "
                    "tier_too_low)."
                )
            ),
            404: OpenApiResponse(description=_("No such customer, or not the caller's to see.")),
            409: OpenApiResponse(
                ErrorOutputSerializer, description=_("insufficient_points or out_of_stock.")
            ),
            422: OpenApiResponse(description=_("The key was used for another request.")),
        },
    )
    def post(self, request, customer_id: int):
        """Redeem a reward for the customer: its points and one unit of its stock, at once."""
        customer = _visible_customer(request, customer_id)
        serializer = self.RedeemInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        reward = serializer.validated_data["reward"]
        key = _service_key(request, request_key(request))

        def effect() -> tuple[int, dict[str, Any]]:
            try:
                redemption = reward_redeem(
                    actor=request.user, customer=customer, reward=reward, key=key
                )
            except DjangoValidationError as error:
                raise _refusal(error) from error
            return status.HTTP_201_CREATED, _redemption_body(redemption)

        return idempotent(request, payload={"reward": reward.pk}, effect=effect)


@extend_schema(tags=["loyalty"])
class RedemptionCancelView(APIView):
    permission_classes = [IsAuthenticated, _permission("loyalty.change_redemption")]

    @extend_schema(
        operation_id="loyalty_redemption_cancel",
        parameters=[IDEMPOTENCY_HEADER],
        request=None,
        responses={
            200: RedemptionOutputSerializer,
            404: OpenApiResponse(description=_("No such redemption, or not the caller's to see.")),
            422: OpenApiResponse(description=_("The key was used for another request.")),
        },
    )
    def post(self, request, redemption_id: int):
        """Cancel a redemption: the points come back (with the expiry they had) and the stock.
        Cancelling a cancelled redemption changes nothing and answers the same."""
        redemption = (
            Redemption.objects.filter(
                customer_visibility_q(request.user, prefix="account__customer__"),
                pk=redemption_id,
            )
            .select_related("account")
            .first()
        )
        if redemption is None:
            raise NotFound
        key = _service_key(request, request_key(request))

        def effect() -> tuple[int, dict[str, Any]]:
            try:
                cancelled = redemption_cancel(actor=request.user, redemption=redemption, key=key)
            except DjangoValidationError as error:
                raise _refusal(error) from error
            return status.HTTP_200_OK, _redemption_body(cancelled)

        return idempotent(request, payload={}, effect=effect)


# --- Benefits -------------------------------------------------------------------------------


class HeldBenefitOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="benefit.pk")
    code = serializers.CharField(source="benefit.code")
    name = serializers.CharField(source="benefit.display_name")
    program = serializers.CharField(source="benefit.tier.program.code")
    tier_rank = serializers.IntegerField(source="benefit.tier.rank")
    is_discount = serializers.BooleanField()
    discount_percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    period = serializers.CharField(source="benefit.period")
    period_start = serializers.DateField(allow_null=True)
    period_end = serializers.DateField(allow_null=True)
    quota = serializers.IntegerField(allow_null=True, help_text=_("Null: a standing discount."))
    used = serializers.IntegerField()
    left = serializers.IntegerField(allow_null=True)


class CustomerBenefitsOutputSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    as_of = serializers.DateField()
    benefits = HeldBenefitOutputSerializer(many=True)


@extend_schema(tags=["loyalty"])
class CustomerBenefitsView(APIView):
    permission_classes = [IsAuthenticated, _permission("loyalty.view_benefitallowance")]

    @extend_schema(
        operation_id="loyalty_customer_benefits",
        responses={
            200: CustomerBenefitsOutputSerializer,
            404: OpenApiResponse(description=_("No such customer, or not the caller's to see.")),
        },
    )
    def get(self, request, customer_id: int):
        """The benefits the customer holds now (their tier or below), with this period's quota,
        uses and what is left; standing discounts with a null quota. A fixed number of
        queries."""
        customer = _visible_customer(request, customer_id)
        as_of = timezone.localdate()
        data = {
            "customer": customer.pk,
            "as_of": as_of,
            "benefits": benefits_held(customer_id=customer.pk, as_of=as_of),
        }
        return Response(CustomerBenefitsOutputSerializer(data).data)


class BenefitUseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    customer = serializers.IntegerField(source="allowance.customer_id")
    benefit = serializers.IntegerField(source="allowance.benefit_id")
    period_start = serializers.DateField(source="allowance.period_start")
    period_end = serializers.DateField(source="allowance.period_end")
    quota = serializers.IntegerField(source="allowance.quota")
    used = serializers.IntegerField(source="allowance.used")
    left = serializers.IntegerField(source="allowance.left")
    note = serializers.CharField()
    used_at = serializers.DateTimeField()


@extend_schema(tags=["loyalty"])
class CustomerBenefitUseView(APIView):
    permission_classes = [IsAuthenticated, _permission("loyalty.add_benefituse")]

    class BenefitUseInputSerializer(serializers.Serializer):
        note = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=BenefitUse._meta.get_field("note").max_length,
        )

    @extend_schema(
        operation_id="loyalty_customer_benefit_use",
        parameters=[IDEMPOTENCY_HEADER],
        request=BenefitUseInputSerializer,
        responses={
            201: BenefitUseOutputSerializer,
            400: OpenApiResponse(
                description=_(
                    "Not held at the customer's tier (benefit_not_held), or a standing "
                    "discount (benefit_not_countable)."
                )
            ),
            404: OpenApiResponse(description=_("No such customer or benefit.")),
            409: OpenApiResponse(ErrorOutputSerializer, description=_("over_quota.")),
            422: OpenApiResponse(description=_("The key was used for another request.")),
        },
    )
    def post(self, request, customer_id: int, benefit_id: int):
        """Use a counted benefit once this period; never over the quota."""
        customer = _visible_customer(request, customer_id)
        benefit = Benefit.objects.filter(pk=benefit_id).first()
        if benefit is None:
            raise NotFound
        serializer = self.BenefitUseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = serializer.validated_data.get("note", "")
        key = _service_key(request, request_key(request))

        def effect() -> tuple[int, dict[str, Any]]:
            try:
                use = benefit_use(
                    actor=request.user, customer=customer, benefit=benefit, key=key, note=note
                )
            except DjangoValidationError as error:
                raise _refusal(error) from error
            # The allowance as counted: read after the guarded update.
            use.allowance = BenefitAllowance.objects.get(pk=use.allowance_id)
            return status.HTTP_201_CREATED, BenefitUseOutputSerializer(use).data

        return idempotent(request, payload={"note": note}, effect=effect)
