"""crm's part of exports and erasures: the customer and what crm holds about them.

Erasure keeps (decided with PIPL art. 47 in mind: what other law or the business needs is kept
and only stored):
- transactions, balances, holdings and credit events with their amounts, dates and ids (the
  accounting and credit-reporting duties); a credit event's free-text note goes;
- the consents' yes/no with their dates (the proof of what was allowed when); marketing
  consents are withdrawn and the evidence text goes, in the history too;
- the timeline's kinds and dates (the text goes), tags are removed, open duplicate pairs go.
The name, phone, e-mail and birth date are replaced in the customer row and in every one of its
history rows; the source records' external ids (a person's number in the source system) are
replaced by `erased-<row id>`; preferences' text is replaced.
"""

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from simple_history.utils import bulk_update_with_history

from crm.models import (
    BalanceSnapshot,
    Consent,
    CreditEvent,
    Customer,
    CustomerTag,
    DuplicatePair,
    Interaction,
    Preference,
    PrivacyRequest,
    ProductHolding,
    SourceRecord,
    Transaction,
)
from crm.privacy.registry import AnonymiseContext, PrivacyHandler, Sections

ERASED_TEXT = "(erased)"


def anonymous_name(customer_id: int) -> str:
    return f"Anonymised #{customer_id}"


def crm_sections(customer_id: int) -> Sections:
    historical_customer = Customer.history.model  # type: ignore[attr-defined]
    historical_consent = Consent.history.model  # type: ignore[attr-defined]
    historical_preference = Preference.history.model  # type: ignore[attr-defined]
    of_customer = {"customer_id": customer_id}
    yield (
        "customer",
        Customer.objects.filter(pk=customer_id).values(
            "id",
            "kind",
            "name",
            "phone",
            "email",
            "birth_date",
            "is_student",
            "status",
            "owner__username",
            "team__name",
            "merged_into_id",
            "created_at",
            "updated_at",
        ),
    )
    yield (
        "customer_history",
        historical_customer.objects.filter(id=customer_id)
        .order_by("history_date", "history_id")
        .values(
            "history_date",
            "history_type",
            "kind",
            "name",
            "phone",
            "email",
            "birth_date",
            "is_student",
            "status",
        ),
    )
    yield (
        "source_records",
        SourceRecord.objects.filter(**of_customer)
        .order_by("pk")
        .values("source", "external_id", "created_at"),
    )
    yield (
        "transactions",
        Transaction.objects.filter(**of_customer)
        .order_by("occurred_at", "pk")
        .values(
            "id",
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
            "refund_of_id",
        ),
    )
    yield (
        "balances",
        BalanceSnapshot.objects.filter(**of_customer)
        .order_by("date")
        .values("date", "amount", "currency"),
    )
    yield (
        "holdings",
        ProductHolding.objects.filter(**of_customer)
        .order_by("opened_on", "pk")
        .values(
            "product_type",
            "product_name",
            "amount",
            "currency",
            "opened_on",
            "closed_on",
            "source",
            "external_id",
        ),
    )
    yield (
        "credit_events",
        CreditEvent.objects.filter(**of_customer)
        .order_by("occurred_at", "pk")
        .values("kind", "severity", "occurred_at", "resolved_at", "note"),
    )
    yield (
        "interactions",
        Interaction.objects.filter(**of_customer)
        .order_by("occurred_at", "pk")
        .values("kind", "occurred_at", "summary"),
    )
    yield (
        "preferences",
        Preference.objects.filter(**of_customer)
        .order_by("created_at")
        .values("text", "created_at"),
    )
    yield (
        "preference_history",
        historical_preference.objects.filter(**of_customer)
        .order_by("history_date", "history_id")
        .values("history_date", "history_type", "text"),
    )
    yield (
        "tags",
        CustomerTag.objects.filter(**of_customer)
        .order_by("tagged_at")
        .values("tag__name", "tag__kind", "tagged_at"),
    )
    consent_fields = (
        "channel",
        "purpose",
        "is_granted",
        "granted_at",
        "withdrawn_at",
        "evidence",
        "evidence_channel",
        "recorded_at",
    )
    yield (
        "consents",
        Consent.objects.filter(**of_customer)
        .order_by("channel", "purpose")
        .values(*consent_fields),
    )
    yield (
        "consent_history",
        historical_consent.objects.filter(**of_customer)
        .order_by("history_date", "history_id")
        .values("history_date", "history_type", *consent_fields),
    )
    yield (
        "privacy_requests",
        PrivacyRequest.objects.filter(**of_customer)
        .order_by("created_at", "pk")
        .values("id", "kind", "status", "received_on", "reference", "created_at", "done_at"),
    )


def crm_anonymise(context: AnonymiseContext) -> dict[str, int]:
    customer_id, now = context.customer_id, context.now
    reason = f"Erasure request #{context.request_id}"
    counts: dict[str, int] = {}

    # Saved (not updated) so that the history gets a row saying who erased and why; the
    # earlier history rows are then overwritten below.
    customer = Customer.objects.select_for_update().get(pk=customer_id)
    customer.name = anonymous_name(customer_id)
    customer.phone = ""
    customer.email = ""
    customer.birth_date = None
    if customer.status != Customer.Status.MERGED:
        customer.status = Customer.Status.CLOSED
    customer._change_reason = reason  # type: ignore[attr-defined]
    customer.save()
    counts["crm.customer"] = 1
    counts["crm.customer_history"] = Customer.history.model.objects.filter(  # type: ignore[attr-defined]
        id=customer_id
    ).update(name=customer.name, phone="", email="", birth_date=None)

    # The admin's own log names the object it changed: the name goes there too.
    counts["admin.log_entries"] = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer), object_id=str(customer_id)
    ).update(object_repr=customer.name)

    of_customer = Q(customer_id=customer_id)
    counts["crm.source_records"] = SourceRecord.objects.filter(of_customer).update(
        external_id=Concat(Value("erased-"), Cast("pk", output_field=CharField()))
    )
    counts["crm.credit_events"] = (
        CreditEvent.objects.filter(of_customer).exclude(note="").update(note="")
    )
    counts["crm.interactions"] = Interaction.objects.filter(of_customer).update(summary=ERASED_TEXT)
    counts["crm.preferences"] = Preference.objects.filter(of_customer).update(text=ERASED_TEXT)
    counts["crm.preference_history"] = Preference.history.model.objects.filter(  # type: ignore[attr-defined]
        of_customer
    ).update(text=ERASED_TEXT)
    counts["crm.tags"] = CustomerTag.objects.filter(of_customer).delete()[0]
    counts["crm.duplicate_pairs"] = (
        DuplicatePair.objects.filter(Q(customer_id=customer_id) | Q(other_id=customer_id))
        .filter(status=DuplicatePair.Status.OPEN)
        .delete()[0]
    )

    # Consents: the evidence text goes everywhere; granted marketing consents are withdrawn,
    # which the history records (at most one row per channel: a handful, written in bulk).
    counts["crm.consent_history"] = Consent.history.model.objects.filter(  # type: ignore[attr-defined]
        of_customer
    ).update(evidence="")
    Consent.objects.filter(of_customer).update(evidence="")
    withdrawn = list(
        Consent.objects.filter(
            of_customer, purpose=Consent.Purpose.MARKETING, is_granted=True
        ).select_for_update()
    )
    for consent in withdrawn:
        consent.is_granted = False
        consent.withdrawn_at = now
        consent.evidence = reason
        consent.recorded_by = context.actor
        consent.recorded_at = now
    if withdrawn:
        bulk_update_with_history(
            withdrawn,
            Consent,
            ["is_granted", "withdrawn_at", "evidence", "recorded_by", "recorded_at"],
            default_user=context.actor,
            default_change_reason=reason,
            default_date=now,
        )
    counts["crm.consents_withdrawn"] = len(withdrawn)
    return counts


def register_crm_privacy_handler() -> None:
    from crm.privacy.registry import register_privacy_handler

    register_privacy_handler(
        PrivacyHandler(key="crm", sections=crm_sections, anonymise=crm_anonymise, order=10)
    )
