"""API v1: customers and transactions. Reads are scoped by the selectors, writes go through the
services, and another RM's customer looks exactly like one that does not exist (404)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.permissions import DjangoModelPermissions, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings

from config.api import NewestFirstCursorPagination
from crm.api.serializers import (
    CustomerInputSerializer,
    CustomerOutputSerializer,
    TransactionBatchErrorSerializer,
    TransactionBatchInputSerializer,
    TransactionBatchResultSerializer,
    TransactionInputSerializer,
    TransactionOutputSerializer,
    TransactionResultSerializer,
)
from crm.filters import CustomerFilter, TransactionFilter
from crm.masking import user_can_see_contact
from crm.privacy.models import CustomerAccessLog
from crm.privacy.services import customer_access_record
from crm.selectors import customer_list, transaction_list
from crm.services.customers import customer_create, customer_update
from crm.services.transactions import CREATED, TransactionRowsInvalid, transaction_batch_create

# Writes need the model's add/change permission on top of seeing the customer.
PERMISSIONS = [IsAuthenticated, DjangoModelPermissions]
PARSERS = [JSONParser]


class NewestOccurredFirstCursorPagination(NewestFirstCursorPagination):
    ordering = ("-occurred_at", "-id")


@extend_schema(tags=["customers"])
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Customers the caller may see: an RM their own, a supervisor their teams', some staff all.

    Phones and e-mails are masked unless the caller may see contacts.
    """

    serializer_class = CustomerOutputSerializer
    filterset_class = CustomerFilter
    pagination_class = NewestFirstCursorPagination
    permission_classes = PERMISSIONS
    parser_classes = PARSERS
    lookup_value_converter = "int"

    def get_queryset(self):
        return customer_list(user=self.request.user)

    def get_serializer_context(self):
        show_contact = user_can_see_contact(self.request.user)
        return {**super().get_serializer_context(), "show_contact": show_contact}

    def retrieve(self, request, *args, **kwargs):
        """One customer; another RM's is 404, like one that does not exist."""
        response = super().retrieve(request, *args, **kwargs)
        customer_access_record(
            user=request.user, customer_id=kwargs["pk"], action=CustomerAccessLog.Action.API_READ
        )
        return response

    @extend_schema(request=CustomerInputSerializer, responses={201: CustomerOutputSerializer})
    def create(self, request):
        """Create a customer. Without an owner the caller owns it, in the owner's team."""
        data = CustomerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        customer = customer_create(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(customer).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CustomerInputSerializer, responses=CustomerOutputSerializer)
    def partial_update(self, request, pk):
        """Change some of a customer's fields; giving it to another RM or team is checked."""
        self.get_object()  # another RM's customer: 404
        data = CustomerInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        customer = customer_update(actor=request.user, customer_id=pk, **data.validated_data)
        return Response(self.get_serializer(customer).data)


@extend_schema(tags=["transactions"])
class TransactionViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Transactions of the customers the caller may see, newest first."""

    serializer_class = TransactionOutputSerializer
    filterset_class = TransactionFilter
    pagination_class = NewestOccurredFirstCursorPagination
    permission_classes = PERMISSIONS
    parser_classes = PARSERS

    def get_queryset(self):
        return transaction_list(user=self.request.user)

    @extend_schema(
        request=TransactionInputSerializer,
        responses={
            201: OpenApiResponse(TransactionResultSerializer, _("Stored.")),
            200: OpenApiResponse(TransactionResultSerializer, _("Already stored; unchanged.")),
        },
    )
    def create(self, request):
        """Store one transaction; idempotent on (source, external_id) like the batch."""
        data = TransactionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            (result,) = transaction_batch_create(actor=request.user, rows=[data.validated_data])
        except TransactionRowsInvalid as error:
            raise serializers.ValidationError(error.row_errors[0]) from error
        answer = status.HTTP_201_CREATED if result.status == CREATED else status.HTTP_200_OK
        return Response(TransactionResultSerializer(result).data, status=answer)

    @extend_schema(
        request=TransactionBatchInputSerializer,
        responses={
            201: OpenApiResponse(TransactionBatchResultSerializer, _("New rows were stored.")),
            200: OpenApiResponse(
                TransactionBatchResultSerializer, _("Every row was stored before.")
            ),
            400: OpenApiResponse(TransactionBatchErrorSerializer, _("Nothing was stored.")),
        },
    )
    @action(detail=False, methods=["post"])
    def batch(self, request):
        """Store up to 1,000 transactions: `{"transactions": [row, ...]}`.

        The batch is all or nothing for invalid rows. If any row is invalid (a missing field, a
        bad amount, a currency not accepted, a customer unknown or not the caller's to see, an
        external id twice in the batch, an unknown refund original) the answer is 400 with the
        errors of each such row, `{"rows": [{"index": 3, "errors": {"amount": ["..."]}}]}`, and
        nothing is stored. Rows are checked as input first, then against the database. A batch
        of more than 1,000 rows is refused as a whole: `{"transactions": ["..."]}`.

        Otherwise the answer is 201 (200 if nothing was new) with one result per row, in order:
        `{"index": 0, "external_id": "...", "status": "created" | "exists", "id": 1}`. A row whose
        (source, external_id) is already stored is "exists" and left unchanged: transactions are
        immutable, so sending the same batch twice stores it once and says so for every row.

        A refund (`kind` "refund") names its original by `refund_of_external_id` in the same
        source: a stored transaction or an earlier row of the batch, of the same customer and
        currency, for at least the refund's amount.
        """
        data = TransactionBatchInputSerializer(data=request.data)
        if not data.is_valid():
            return Response(_batch_errors(data.errors), status=status.HTTP_400_BAD_REQUEST)
        try:
            results = transaction_batch_create(
                actor=request.user, rows=data.validated_data["transactions"]
            )
        except TransactionRowsInvalid as error:
            errors = _batch_errors({"transactions": error.row_errors})
            return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        created = any(result.status == CREATED for result in results)
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(TransactionBatchResultSerializer({"results": results}).data, status=answer)


def _batch_errors(errors: dict) -> dict:
    """Row errors ({index: {field: [reason]}} under "transactions") as a list under "rows"."""
    rows = errors.get("transactions")
    if not isinstance(rows, dict):
        return errors
    other = {field: reasons for field, reasons in errors.items() if field != "transactions"}
    return {
        **other,
        "rows": [
            {
                "index": index,
                # A row that is not an object has only reasons, no field.
                "errors": row
                if isinstance(row, dict)
                else {api_settings.NON_FIELD_ERRORS_KEY: row},
            }
            for index, row in sorted(rows.items())
        ],
    }
