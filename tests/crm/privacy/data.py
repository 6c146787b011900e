"""A customer with personal data in every app: the givens of the privacy tests.

Every free text carries `SECRET` or the customer's name, so that a scan of every table after an
erasure finds what was left behind."""

from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db.models import Sum

from crm.models import Consent, Customer, CustomerTag
from crm.services.consents import consent_record
from loyalty.models import (
    Benefit,
    BenefitAllowance,
    BenefitUse,
    GraceEvidence,
    GracePeriod,
    Membership,
    MembershipChange,
    PointsAccount,
    PointsEntry,
    Referral,
    StabilityFlag,
    Tier,
)
from loyalty.services.ledger import account_get_or_create, credit, debit
from tests.factories import (
    BalanceSnapshotFactory,
    CreditEventFactory,
    CustomerFactory,
    InteractionFactory,
    PreferenceFactory,
    ProductHoldingFactory,
    SourceRecordFactory,
    TagFactory,
    TransactionFactory,
    UserFactory,
)
from tests.loyalty.factories import ProgramFactory
from workflows.models import (
    CareSequence,
    Enrollment,
    ExperienceOfficer,
    FeedbackAnswer,
    FeedbackForm,
    FeedbackInvitation,
    FeedbackResponse,
    FormVersion,
    Message,
    SensitiveEvent,
    Ticket,
    TicketAttachment,
    TicketNote,
)
from workflows.models.outbox import Channel, Purpose

NAME = "欧阳秘密"
PHONE = "+8613912345678"
PHONE_DIGITS = "13912345678"
EMAIL = "ouyang.secret@example.com"
SECRET = "SECRET-隐私"
EXTERNAL_ID = "CB-SECRET-0001"


def customer_with_everything(
    owner, *, rows: int = 1, name: str = NAME, phone: str = PHONE, email: str = EMAIL
) -> Customer:
    """`rows` rows per table (where a table allows more than one) in crm, loyalty, workflows."""
    customer = CustomerFactory(owner=owner, name=name, phone=phone, email=email)
    customer.name = name + " "  # a second history row with the personal data
    customer.save()
    customer.name = name
    customer.save()
    staff = UserFactory(username="privacy_staff")
    for n in range(rows):
        SourceRecordFactory(customer=customer, external_id=f"{EXTERNAL_ID}-{customer.pk}-{n}")
        TransactionFactory(customer=customer, amount=Decimal("100.50"), merchant="Shop")
        BalanceSnapshotFactory(customer=customer, date=date(2026, 1, 1 + n))
        ProductHoldingFactory(customer=customer)
        CreditEventFactory(customer=customer, note=f"{SECRET} credit note")
        InteractionFactory(customer=customer, summary=f"{SECRET} called about {NAME}")
        PreferenceFactory(customer=customer, text=f"{SECRET} memory foam pillow")
        CustomerTag.objects.create(customer=customer, tag=TagFactory())
    consent_record(
        actor=staff,
        customer=customer,
        channel=Consent.Channel.SMS,
        purpose=Consent.Purpose.MARKETING,
        is_granted=True,
        evidence_channel=Consent.EvidenceChannel.PAPER_FORM,
        evidence=f"{SECRET} form signed by {NAME}",
    )
    _loyalty(customer, staff, rows=rows)
    _workflows(customer, staff, rows=rows)
    return customer


def _loyalty(customer: Customer, staff, *, rows: int) -> None:
    program = ProgramFactory(code="privacy")
    tier, _created = Tier.objects.get_or_create(program=program, rank=1, defaults={"name": "M"})
    membership = Membership.objects.create(
        customer=customer, program=program, tier=tier, since=date(2026, 1, 1)
    )
    account = account_get_or_create(customer_id=customer.pk, program_id=program.pk)
    benefit, _created = Benefit.objects.get_or_create(
        tier=tier, code="checkup", defaults={"name": "Checkup", "quota": 3}
    )
    for n in range(rows):
        MembershipChange.objects.create(
            membership=membership,
            customer=customer,
            program=program,
            to_tier=tier,
            evaluated_on=date(2026, 1, 1 + n),
            kind=MembershipChange.Kind.JOINED,
        )
        credit(
            account=account,
            kind=PointsEntry.Kind.EARN,
            points=500,
            key=f"privacy-earn-{customer.pk}-{n}",
            expires_on=date(2099, 1, 1),
        )
        debit(
            account=account,
            kind=PointsEntry.Kind.REDEEM,
            points=120,
            key=f"privacy-redeem-{customer.pk}-{n}",
        )
        grace = GracePeriod.objects.create(
            customer=customer,
            program=program,
            months=1,
            reason=GracePeriod.Reason.ILLNESS,
            explanation=f"{SECRET} hospital stay of {NAME}",
            requested_by=staff,
        )
        GraceEvidence.objects.create(
            grace_period=grace,
            file=ContentFile(b"%PDF-1.4 secret", name=f"evidence-{n}.pdf"),
            original_name="medical.pdf",
            content_type="application/pdf",
            size=15,
            uploaded_by=staff,
        )
        allowance = BenefitAllowance.objects.create(
            customer=customer,
            benefit=benefit,
            period_start=date(2026 + n, 1, 1),
            period_end=date(2026 + n, 12, 31),
            quota=3,
        )
        BenefitUse.objects.create(
            allowance=allowance,
            key=f"privacy-use-{customer.pk}-{n}",
            note=f"{SECRET} used",
            used_by=staff,
        )
        Referral.objects.create(program=program, referrer=customer, referred=CustomerFactory())
        StabilityFlag.objects.create(
            transaction=TransactionFactory(customer=customer),
            customer=customer,
            amount=Decimal("1000"),
            monthly_median=Decimal("100"),
            flagged_on=date(2026, 1, 1),
            comment=f"{SECRET} checked with {NAME}",
        )


def _workflows(customer: Customer, staff, *, rows: int) -> None:
    form, _created = FeedbackForm.objects.get_or_create(
        slug="privacy", defaults={"name": "Privacy", "title_en": "T"}
    )
    version, _created = FormVersion.objects.get_or_create(form=form, number=1)
    sequence, _created = CareSequence.objects.get_or_create(
        name="Welcome", defaults={"trigger": "new_customer"}
    )
    ExperienceOfficer.objects.create(customer=customer, is_active=True)
    for n in range(rows):
        Message.objects.create(
            key=f"privacy:{customer.pk}:{n}",
            customer=customer,
            channel=Channel.SMS,
            purpose=Purpose.MARKETING,
            occasion=f"privacy-{n}",
            recipient=PHONE,
            body=f"Dear {NAME}, {SECRET}",
        )
        Message.objects.create(
            key=f"privacy-mail:{customer.pk}:{n}",
            customer=customer,
            channel=Channel.EMAIL,
            purpose=Purpose.SERVICE,
            occasion=f"privacy-mail-{n}",
            recipient=EMAIL,
            subject=f"For {NAME}",
            body=SECRET,
            state=Message.State.SENT,
        )
        SensitiveEvent.objects.create(
            customer=customer,
            kind=SensitiveEvent.Kind.BEREAVEMENT,
            occurred_on=date(2026, 1, 1),
            suppressed_until=date(2026, 3, 1),
            note=f"{SECRET} father of {NAME}",
        )
        invitation = FeedbackInvitation.objects.create(
            form=form,
            customer=customer,
            occasion=f"privacy-{n}",
            expires_at=datetime(2099, 2, 1, tzinfo=UTC),
        )
        response = FeedbackResponse.objects.create(
            form=form,
            version=version,
            customer=customer,
            invitation=invitation,
            nps=9,
            contact_name=NAME,
            contact_phone=PHONE,
            contact_email=EMAIL,
        )
        FeedbackAnswer.objects.create(
            response=response, question_id="q1", kind="long_text", text=f"{SECRET} 很好"
        )
        ticket = Ticket.objects.create(
            customer=customer,
            department="customer_service",
            category="other",
            subject=f"{NAME} {SECRET}",
            description=f"{SECRET} call {PHONE}",
        )
        ticket.status = Ticket.Status.OPEN
        ticket.save()  # a second history row with the personal text
        TicketNote.objects.create(
            ticket=ticket, kind=TicketNote.Kind.INTERNAL, body=f"{SECRET} note", author=staff
        )
        TicketAttachment.objects.create(
            ticket=ticket,
            file=ContentFile(b"secret", name=f"id-card-{n}.png"),
            name="id-card.png",
            content_type="image/png",
            size=6,
            uploaded_by=staff,
        )
        Enrollment.objects.create(sequence=sequence, customer=customer, occasion=f"new-{n}")


def ledger_totals(customer: Customer) -> tuple[int, int]:
    """(sum of the entries, sum of the balances) of the customer's points accounts."""
    entries = PointsEntry.objects.filter(account__customer=customer).aggregate(s=Sum("points"))
    balances = PointsAccount.objects.filter(customer=customer).aggregate(s=Sum("balance"))
    return entries["s"], balances["s"]
