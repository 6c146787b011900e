"""What the API reads (Input) and shows (Output). Inputs only parse; the services write."""

from collections.abc import Mapping

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from crm.masking import mask_email, mask_phone
from crm.models import Customer, Source, Team, Transaction
from crm.services.transactions import CREATED, EXISTS

User = get_user_model()


class StrictInputSerializer(serializers.Serializer):
    """Refuses fields it does not declare (id, created_at...) instead of ignoring them."""

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            message = _("This field cannot be set.")
            unknown = {name: [message] for name in data if name not in self.fields}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                raise serializers.ValidationError({**unknown, **error.detail}) from error
            raise
        if unknown:
            raise serializers.ValidationError(unknown)
        return value


def choice_field_class(name: str, choices: list) -> type[serializers.ChoiceField]:
    """A ChoiceField over `choices`, documented as one enum named `name` wherever it is used.

    drf-spectacular otherwise names an enum after its field, and warns when two choice sets share
    a field name ("kind" of customers and of transactions) or one set has two ("source" and
    "customer_source").
    """

    class NamedChoiceField(serializers.ChoiceField):
        def __init__(self, **kwargs) -> None:
            super().__init__(choices, **kwargs)

    schema = serializers.ChoiceField(choices=choices)
    return extend_schema_field(schema, component_name=name)(NamedChoiceField)


SourceField = choice_field_class("Source", Source.choices)
CustomerKindField = choice_field_class("CustomerKind", Customer.Kind.choices)
CustomerStatusField = choice_field_class("CustomerStatus", Customer.Status.choices)
TransactionKindField = choice_field_class("TransactionKind", Transaction.Kind.choices)
ResultStatusField = choice_field_class("TransactionResultStatus", [CREATED, EXISTS])


# --- Customers ------------------------------------------------------------------------------


class CustomerInputSerializer(StrictInputSerializer):
    """A customer's fields that the API writes; any other field (id, created_at...) is refused."""

    kind = CustomerKindField(required=False)
    name = serializers.CharField(max_length=200)
    phone = PhoneNumberField(
        region="CN",
        required=False,
        allow_blank=True,
        max_length=32,
        help_text=_(
            "A mobile number: +86 138-0013-8000 and 13800138000 both become +8613800138000."
        ),
    )
    email = serializers.EmailField(required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    is_student = serializers.BooleanField(required=False)
    status = CustomerStatusField(required=False)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text=_("The relationship manager's user id; by default the caller."),
    )
    team = serializers.PrimaryKeyRelatedField(
        queryset=Team.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("By default the owner's team."),
    )

    def validate_status(self, status: str) -> str:
        if status == Customer.Status.MERGED:
            raise serializers.ValidationError(
                _("A customer becomes merged only by merging it into another one.")
            )
        return status


class CustomerOutputSerializer(serializers.ModelSerializer):
    """Phone and e-mail whole only for those who may see them (`show_contact` in the context)."""

    phone = serializers.SerializerMethodField(help_text=_("E.164, or masked: 138****8000."))
    email = serializers.SerializerMethodField(help_text=_("Whole, or masked: z***@example.com."))

    kind = CustomerKindField(read_only=True)
    status = CustomerStatusField(read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "kind",
            "name",
            "phone",
            "email",
            "birth_date",
            "is_student",
            "status",
            "owner",
            "team",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_phone(self, customer: Customer) -> str:
        if self.context["show_contact"]:
            return str(customer.phone or "")
        return mask_phone(customer.phone)

    def get_email(self, customer: Customer) -> str:
        return customer.email if self.context["show_contact"] else mask_email(customer.email)


# --- Transactions ---------------------------------------------------------------------------


class TransactionInputSerializer(StrictInputSerializer):
    """One transaction from another system, identified by (source, external_id)."""

    source = SourceField()
    external_id = serializers.CharField(max_length=100)
    customer = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text=_("Our customer id; or give customer_source and customer_external_id."),
    )
    customer_source = SourceField(required=False)
    customer_external_id = serializers.CharField(max_length=100, required=False)
    kind = TransactionKindField()
    amount = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        help_text=_("Greater than zero, at most 2 decimal places and 12 digits before them."),
    )
    currency = serializers.CharField(max_length=3, default=settings.CRM_DEFAULT_CURRENCY)
    category = serializers.ChoiceField(
        choices=Transaction.Category.choices, default=Transaction.Category.OTHER
    )
    channel = serializers.ChoiceField(
        choices=Transaction.Channel.choices, default=Transaction.Channel.ONLINE
    )
    payment_method = serializers.ChoiceField(
        choices=Transaction.PaymentMethod.choices, default=Transaction.PaymentMethod.CARD
    )
    merchant = serializers.CharField(max_length=200, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(
        default_timezone=timezone.get_default_timezone(),
        help_text=_(
            "ISO 8601 with an offset; a time without one is read in the server's time zone "
            "(Asia/Shanghai unless configured otherwise)."
        ),
    )
    refund_of_external_id = serializers.CharField(
        max_length=100,
        required=False,
        help_text=_(
            "Required for a refund, and only then: the external id of the refunded transaction "
            "in the same source, stored or earlier in the same batch."
        ),
    )

    def validate_amount(self, amount):
        if amount <= 0:
            raise serializers.ValidationError(_("The amount must be greater than zero."))
        return amount

    def validate_currency(self, currency: str) -> str:
        if currency not in settings.CRM_CURRENCIES:
            message = _("%(currency)s is not one of the accepted currencies: %(accepted)s.")
            accepted = ", ".join(settings.CRM_CURRENCIES)
            raise serializers.ValidationError(
                message % {"currency": currency, "accepted": accepted}
            )
        return currency

    def validate(self, row: dict) -> dict:
        by_id = row.get("customer") is not None
        by_source = {"customer_source", "customer_external_id"} & row.keys()
        if by_id == bool(by_source):
            message = _("Give either customer or customer_source with customer_external_id.")
            raise serializers.ValidationError({"customer": [message]})
        if by_source and len(by_source) == 1:
            (missing,) = {"customer_source", "customer_external_id"} - by_source
            message = _("This field is required with %(other)s.")
            raise serializers.ValidationError({missing: [message % {"other": by_source.pop()}]})
        return row


class TransactionRowsField(serializers.ListField):
    """The rows of a batch; their number is checked before any row is read."""

    def to_internal_value(self, data):
        if isinstance(data, list) and len(data) > self.max_length:
            message = _("A batch holds at most %(limit)s transactions; this one has %(count)s.")
            raise serializers.ValidationError(
                message % {"limit": self.max_length, "count": len(data)}
            )
        return super().to_internal_value(data)


class TransactionBatchInputSerializer(StrictInputSerializer):
    """Up to `CRM_API_BATCH_LIMIT` (1,000) transactions, stored all or nothing."""

    transactions = TransactionRowsField(
        child=TransactionInputSerializer(),
        allow_empty=False,
        max_length=settings.CRM_API_BATCH_LIMIT,
    )


class TransactionOutputSerializer(serializers.ModelSerializer):
    """A stored transaction; `refund_of` is the id of the transaction a refund refunds."""

    kind = TransactionKindField(read_only=True)
    source = SourceField(read_only=True)

    class Meta:
        model = Transaction
        fields = [
            "id",
            "customer",
            "kind",
            "amount",
            "currency",
            "category",
            "channel",
            "payment_method",
            "merchant",
            "occurred_at",
            "source",
            "external_id",
            "refund_of",
            "created_at",
        ]
        read_only_fields = fields


class TransactionResultSerializer(serializers.Serializer):
    """What became of one posted transaction: stored now, or already stored before."""

    external_id = serializers.CharField()
    status = ResultStatusField()
    id = serializers.IntegerField()


class TransactionRowResultSerializer(TransactionResultSerializer):
    """What became of the batch's row number `index` (from 0)."""

    index = serializers.IntegerField()


class TransactionBatchResultSerializer(serializers.Serializer):
    """One result per row of the batch, in order."""

    results = TransactionRowResultSerializer(many=True)


class RowErrorSerializer(serializers.Serializer):
    """Why the batch's row number `index` (from 0) was refused."""

    index = serializers.IntegerField()
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text=_("The row's errors by field: {field: [reason]}."),
    )


class TransactionBatchErrorSerializer(serializers.Serializer):
    """A refused batch: errors per row, or of the batch as a whole."""

    rows = RowErrorSerializer(many=True, required=False)
    transactions = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text=_("Errors of the batch as a whole, such as too many rows."),
    )
