"""Care sequences: triggers enrol once per occasion, steps fire once each, exit rules stop."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.models import Consent, Transaction
from crm.signals import transactions_stored
from loyalty.services.ledger import account_get_or_create, credit
from tests.factories import CustomerFactory, TransactionFactory
from tests.loyalty.factories import ProgramFactory, member, tiered_program
from tests.workflows.conftest import consenting_customer
from workflows.models import CareSequence, CareStep, Enrollment, Message, Ticket
from workflows.models.sequences import TriggerKind
from workflows.outbox.dispatch import outbox_dispatch
from workflows.outbox.enqueue import message_key
from workflows.sequences.advance import enrollments_advance
from workflows.sequences.seeds import seed_sequences
from workflows.sequences.triggers import sequences_enrol
from workflows.tasks import sequences_advance_task, sequences_enrol_task

CHANNELS = ("email", "sms", "phone")


def _baby_customer(**kwargs):
    return consenting_customer(channels=CHANNELS, **kwargs)


def _purchase(customer, category="mother_and_baby", **kwargs):
    return TransactionFactory(customer=customer, category=category, **kwargs)


def _sent_per_step(sequence) -> dict[int, int]:
    counts = {}
    for message in Message.objects.filter(state=Message.State.SENT):
        order = int(message.occasion.rsplit(":", 1)[1])
        assert message.occasion.startswith(f"sequence:{sequence.pk}:")
        counts[order] = counts.get(order, 0) + 1
    return counts


@pytest.mark.django_db
def test_end_to_end_day_0_2_7_once_each_and_the_ticket_exit_stops_it(
    noon, outbox_file, rm, time_machine
):
    sequence = seed_sequences()
    stays = _baby_customer(owner=rm)
    leaves = _baby_customer(owner=rm)
    _purchase(stays)
    _purchase(leaves)
    assert sequences_enrol_task() == {str(sequence.pk): 2}
    for day in range(10):
        time_machine.move_to(noon + timedelta(days=day), tick=False)
        if day == 1:
            Ticket.objects.create(
                customer=leaves, department="customer_service", category="other", subject="Help"
            )
        for _run in range(2):  # a beat that runs twice changes nothing twice
            sequences_enrol_task()
            sequences_advance_task()
            outbox_dispatch()
    assert _sent_per_step(sequence) == {1: 2, 2: 1, 3: 1}
    assert set(
        Message.objects.filter(occasion__endswith=":step:3").values_list(
            "customer_id", "assigned_to_id"
        )
    ) == {(stays.pk, rm.pk)}
    states = dict(Enrollment.objects.values_list("customer_id", "state"))
    assert states == {stays.pk: "completed", leaves.pk: "exited"}
    assert Enrollment.objects.get(customer=leaves).exit_reason == "ticket_opened"
    assert seed_sequences().pk == sequence.pk
    assert CareStep.objects.count() == 3


@pytest.mark.django_db
def test_steps_wait_for_their_day(noon, outbox_file, time_machine):
    sequence = seed_sequences()
    customer = _baby_customer(owner=None)
    _purchase(customer)
    sequences_enrol()
    enrollments_advance()
    time_machine.move_to(noon + timedelta(days=1, hours=23), tick=False)
    enrollments_advance()
    assert Message.objects.count() == 1
    enrollment = Enrollment.objects.get()
    assert (enrollment.next_step, enrollment.next_due_at) == (2, noon + timedelta(days=2))
    assert sequence.pk == enrollment.sequence_id


@pytest.mark.django_db
def test_message_key_is_the_outboxs(noon):
    seed_sequences()
    customer = _baby_customer()
    _purchase(customer)
    sequences_enrol()
    enrollments_advance()
    message = Message.objects.get()
    assert message.key == message_key(
        purpose=message.purpose,
        customer_id=customer.pk,
        occasion=message.occasion,
        channel=message.channel,
    )
    enrollment = Enrollment.objects.get()
    assert (
        message.occasion == f"sequence:{enrollment.sequence_id}:enrollment:{enrollment.pk}:step:1"
    )


def _sequence(trigger, parameters=None, **fields):
    sequence = CareSequence.objects.create(
        name=trigger, trigger=trigger, parameters=parameters or {}, **fields
    )
    CareStep.objects.create(
        sequence=sequence, order=1, delay_days=0, channel="sms", template_code="baby-tips"
    )
    return sequence


def _enrolled(sequence):
    return sorted(
        Enrollment.objects.filter(sequence=sequence).values_list("customer_id", "occasion")
    )


@pytest.mark.django_db
def test_each_trigger_enrols_once_per_occasion(noon):
    seed_sequences()
    today = noon.date()
    old = CustomerFactory(created_at=noon - timedelta(days=40), birth_date=date(1990, 1, 1))
    born_today = CustomerFactory(
        created_at=noon - timedelta(days=40), birth_date=date(1990, today.month, today.day)
    )
    new = CustomerFactory(birth_date=None)
    transfer = TransactionFactory(
        customer=old, kind=Transaction.Kind.TRANSFER_OUT, amount=Decimal("600000")
    )
    TransactionFactory(customer=old, kind=Transaction.Kind.TRANSFER_OUT, amount=Decimal("1000"))
    # Travel: 100 in the 30 days before, 300 in the last 30 days: +200%.
    TransactionFactory(
        customer=born_today,
        category="travel",
        amount=Decimal("100"),
        occurred_at=noon - timedelta(days=45),
    )
    TransactionFactory(
        customer=born_today,
        category="travel",
        amount=Decimal("300"),
        occurred_at=noon - timedelta(days=5),
    )
    TransactionFactory(
        customer=old,
        category="travel",
        amount=Decimal("100"),
        occurred_at=noon - timedelta(days=45),
    )
    TransactionFactory(
        customer=old, category="travel", amount=Decimal("299"), occurred_at=noon - timedelta(days=5)
    )
    sequences = {
        "transfer": _sequence(TriggerKind.LARGE_TRANSFER, {"min_amount": "500000"}),
        "birthday": _sequence(TriggerKind.BIRTHDAY),
        "new": _sequence(TriggerKind.NEW_CUSTOMER),
        "surge": _sequence(TriggerKind.SPEND_SURGE, {"category": "travel", "ratio": 3}),
    }
    sequences_enrol()
    sequences_enrol()
    year, week, _ = today.isocalendar()
    assert _enrolled(sequences["transfer"]) == [(old.pk, str(transfer.pk))]
    assert _enrolled(sequences["birthday"]) == [(born_today.pk, str(today.year))]
    assert _enrolled(sequences["new"]) == [(new.pk, "new")]
    assert _enrolled(sequences["surge"]) == [(born_today.pk, f"{year}-W{week:02d}")]


@pytest.mark.django_db
def test_tier_change_enrols_by_direction(noon):
    from loyalty.models import MembershipChange

    seed_sequences()
    program = tiered_program()
    customer = CustomerFactory()
    membership = member(customer, program, 3)
    up = MembershipChange.objects.create(
        membership=membership,
        customer=customer,
        program=program,
        from_tier=program.tiers.get(rank=2),
        to_tier=program.tiers.get(rank=3),
        kind=MembershipChange.Kind.UPGRADE,
        evaluated_on=noon.date(),
    )
    ups = _sequence(TriggerKind.TIER_CHANGED, {"direction": "up"})
    downs = _sequence(TriggerKind.TIER_CHANGED, {"direction": "down"})
    sequences_enrol()
    sequences_enrol()
    assert _enrolled(ups) == [(customer.pk, str(up.pk))]
    assert _enrolled(downs) == []


@pytest.mark.django_db
def test_a_stored_purchase_enrols_at_once(noon):
    sequence = seed_sequences()
    customer = _baby_customer()
    purchase = _purchase(customer)
    other = _purchase(customer, category="dining")
    transactions_stored.send(sender=Transaction, transaction_ids=[purchase.pk, other.pk])
    transactions_stored.send(sender=Transaction, transaction_ids=[purchase.pk])
    assert _enrolled(sequence) == [(customer.pk, str(purchase.pk))]


@pytest.mark.django_db
def test_exit_rules_opt_out_and_conversion(noon, time_machine):
    sequence = seed_sequences()
    sequence.exit_on_conversion = True
    sequence.conversion_category = "mother_and_baby"
    sequence.save()
    opts_out, converts, dines = (_baby_customer() for _ in range(3))
    for customer in (opts_out, converts, dines):
        _purchase(customer, occurred_at=noon - timedelta(hours=1))
    sequences_enrol()
    Consent.objects.filter(customer=opts_out, channel="sms", purpose="marketing").update(
        is_granted=False, withdrawn_at=noon
    )
    time_machine.move_to(noon + timedelta(minutes=5), tick=False)
    _purchase(converts)
    _purchase(dines, category="dining")
    result = enrollments_advance()
    assert result.exited == {"opted_out": 1, "ticket_opened": 0, "converted": 1}
    reasons = dict(Enrollment.objects.values_list("customer_id", "exit_reason"))
    assert reasons == {opts_out.pk: "opted_out", converts.pk: "converted", dines.pk: ""}
    assert list(Message.objects.values_list("customer_id", flat=True)) == [dines.pk]


@pytest.mark.django_db
def test_step_conditions(noon):
    sequence = _sequence(TriggerKind.NEW_CUSTOMER)
    seed_sequences()
    sequence.steps.update(condition={"min_tier_rank": 3})
    CareStep.objects.create(
        sequence=sequence,
        order=2,
        delay_days=0,
        channel="sms",
        template_code="baby-tips",
        condition={"not_converted": True},
    )
    program = tiered_program()
    gold, silver = CustomerFactory(), CustomerFactory()
    member(gold, program, 3)
    member(silver, program, 2)
    sequences_enrol()
    _purchase(silver, occurred_at=noon + timedelta(seconds=1))
    from workflows.sequences import advance

    advance.enrollments_advance(now=noon + timedelta(seconds=2))
    sent = sorted(Message.objects.values_list("customer_id", "occasion"))
    assert [(c, o.rsplit(":", 1)[1]) for c, o in sent] == sorted([(gold.pk, "1"), (gold.pk, "2")])
    assert set(Enrollment.objects.values_list("state", flat=True)) == {"completed"}


@pytest.mark.django_db
def test_validation_of_parameters_and_conditions():
    with pytest.raises(ValidationError):
        CareSequence(
            name="x", trigger=TriggerKind.PURCHASE_IN_CATEGORY, parameters={"category": "cars"}
        ).full_clean()
    with pytest.raises(ValidationError):
        CareSequence(name="x", trigger=TriggerKind.LARGE_TRANSFER, parameters={}).full_clean()
    with pytest.raises(ValidationError):
        CareStep(condition={"min_tier_rank": "gold"}).clean()


@pytest.mark.django_db
def test_advance_queries_do_not_grow_with_enrollments(noon, django_assert_max_num_queries):
    seed_sequences()
    for _ in range(3):
        _purchase(_baby_customer())
    sequences_enrol()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        enrollments_advance()
    for _ in range(20):
        _purchase(_baby_customer())
    sequences_enrol()
    with django_assert_max_num_queries(len(few.captured_queries)):
        result = enrollments_advance()
    assert result.enqueued == 20


@pytest.mark.django_db
def test_admin_sequence_results_and_scoped_enrollments(client, supervisor, rm, foreign_rm, noon):
    sequence = seed_sequences()
    mine = _baby_customer(owner=rm)
    theirs = _baby_customer(owner=foreign_rm)
    _purchase(mine)
    _purchase(theirs)
    sequences_enrol()
    enrollments_advance()
    client.force_login(supervisor)
    page = client.get(reverse("admin:workflows_caresequence_change", args=[sequence.pk]))
    assert page.status_code == 200
    assert "Enrolled 2" in page.content.decode()
    bad = client.post(
        reverse("admin:workflows_caresequence_add"),
        {
            "name": "bad",
            "trigger": "purchase_in_category",
            "parameters": '{"category": "cars"}',
            "steps-TOTAL_FORMS": "0",
            "steps-INITIAL_FORMS": "0",
        },
    )
    assert bad.status_code == 200
    assert "Unknown category" in bad.content.decode()
    client.force_login(rm)
    listing = client.get(reverse("admin:workflows_enrollment_changelist"))
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list.values_list("customer_id", flat=True)) == [
        mine.pk
    ]
    other = Enrollment.objects.get(customer=theirs)
    assert (
        client.get(reverse("admin:workflows_enrollment_change", args=[other.pk])).status_code == 404
    )
    assert (
        client.get(reverse("admin:workflows_caresequence_change", args=[sequence.pk])).status_code
        == 200
    )


@pytest.mark.django_db
def test_points_expiring_soon_enrols_once_a_month(noon):
    seed_sequences()
    sequence = _sequence(TriggerKind.POINTS_EXPIRING, {"days": 30})
    soon, later = CustomerFactory(), CustomerFactory()
    today = noon.date()
    for customer, days in [(soon, 10), (later, 60)]:
        account = account_get_or_create(
            customer_id=customer.pk, program_id=ProgramFactory(code="bank").pk
        )
        credit(
            account=account,
            kind="earn",
            points=100,
            key=f"e-{customer.pk}",
            expires_on=today + timedelta(days=days),
        )

    sequences_enrol()
    sequences_enrol()

    assert _enrolled(sequence) == [(soon.pk, f"{today.year}-{today.month:02d}")]
