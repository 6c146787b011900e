"""Every rule of the outbox, alone and combined, at its boundaries (dispatch on SQLite and
PostgreSQL through the real claim-send-record path, to the file backend)."""

from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone

from tests.factories import CustomerFactory, make_rm
from tests.workflows.conftest import NOON, SHANGHAI, consenting_customer, sent_ids, state_of
from workflows.models import Message, SensitiveEvent
from workflows.outbox.dispatch import outbox_dispatch
from workflows.outbox.enqueue import message_enqueue
from workflows.suppression import default_suppressed_until

pytestmark = pytest.mark.django_db


def sensitive_event_record(*, customer, kind, occurred_on, suppressed_until=None):
    until = suppressed_until or default_suppressed_until(kind, occurred_on)
    return SensitiveEvent.objects.create(
        customer=customer, kind=kind, occurred_on=occurred_on, suppressed_until=until
    )


def _enqueue(customer, n=1, *, purpose="marketing", channel="sms", **kwargs):
    return message_enqueue(
        customer=customer,
        channel=channel,
        purpose=purpose,
        occasion=f"occasion:{n}",
        body=f"message {n}",
        **kwargs,
    )


def test_a_message_passing_every_rule_is_sent_once(outbox_file, noon):
    message = _enqueue(consenting_customer())
    outbox_dispatch()
    outbox_dispatch()
    message.refresh_from_db()
    assert (message.state, message.attempts, message.sent_at) == ("sent", 1, NOON)
    assert message.recipient.startswith("+86138")
    assert sent_ids(outbox_file) == [message.pk]


@pytest.mark.parametrize(
    ("local", "state"),
    [((20, 59), "sent"), ((21, 0), "held"), ((8, 59), "held"), ((9, 0), "sent")],
)
def test_quiet_hours_hold_marketing_from_21_00_to_09_00_shanghai(
    outbox_file, time_machine, local, state
):
    time_machine.move_to(datetime(2026, 6, 10, *local, tzinfo=SHANGHAI), tick=False)
    message = _enqueue(consenting_customer())
    outbox_dispatch()
    assert state_of(message) == (state, "")


def test_a_held_message_goes_when_the_quiet_hours_end_and_service_is_never_held(
    outbox_file, time_machine
):
    time_machine.move_to(datetime(2026, 6, 10, 23, 30, tzinfo=SHANGHAI), tick=False)
    customer = consenting_customer()
    marketing = _enqueue(customer)
    service = _enqueue(customer, 2, purpose="service")
    outbox_dispatch()
    marketing.refresh_from_db()
    assert marketing.state == "held"
    assert marketing.not_before == datetime(2026, 6, 11, 9, 0, tzinfo=SHANGHAI)
    assert state_of(service) == ("sent", "")
    time_machine.move_to(datetime(2026, 6, 11, 8, 59, tzinfo=SHANGHAI), tick=False)
    outbox_dispatch()
    assert state_of(marketing) == ("held", "")
    time_machine.move_to(datetime(2026, 6, 11, 9, 0, tzinfo=SHANGHAI), tick=False)
    outbox_dispatch()
    assert state_of(marketing) == ("sent", "")


def test_the_daily_cap_sends_the_nth_and_refuses_the_n_plus_first_in_one_batch(
    outbox_file, noon, settings
):
    settings.WORKFLOWS_MARKETING_PER_DAY = 2
    customer = consenting_customer()
    messages = [_enqueue(customer, n) for n in range(3)]
    service = _enqueue(customer, 9, purpose="service")
    outbox_dispatch()
    assert [state_of(m) for m in messages] == [
        ("sent", ""),
        ("sent", ""),
        ("refused", "frequency_cap"),
    ]
    assert state_of(service) == ("sent", "")


def test_the_daily_cap_counts_earlier_sends_over_24_hours(outbox_file, time_machine, settings):
    settings.WORKFLOWS_MARKETING_PER_DAY = 2
    customer = consenting_customer()
    time_machine.move_to(NOON - timedelta(days=1), tick=False)
    _enqueue(customer, 1)
    outbox_dispatch()
    time_machine.move_to(NOON - timedelta(days=1) + timedelta(minutes=1), tick=False)
    _enqueue(customer, 2)
    outbox_dispatch()
    # 24 h after the first: it no longer counts, the second does (n-th of the day allowed).
    time_machine.move_to(NOON, tick=False)
    third = _enqueue(customer, 3)
    outbox_dispatch()
    assert state_of(third) == ("sent", "")
    fourth = _enqueue(customer, 4)
    outbox_dispatch()
    assert state_of(fourth) == ("refused", "frequency_cap")


def test_the_weekly_cap_sends_the_fifth_and_refuses_the_sixth(outbox_file, time_machine):
    customer = consenting_customer()
    for day in range(5):  # one a day on the 5 days before, all inside the last 7 days
        time_machine.move_to(NOON - timedelta(days=5 - day), tick=False)
        _enqueue(customer, day)
        outbox_dispatch()
    assert Message.objects.filter(state="sent").count() == 5
    time_machine.move_to(NOON, tick=False)
    sixth = _enqueue(customer, 6)
    outbox_dispatch()
    assert state_of(sixth) == ("refused", "frequency_cap")
    # A week after the first, the first no longer counts.
    time_machine.move_to(NOON + timedelta(days=2), tick=False)
    seventh = _enqueue(customer, 7)
    outbox_dispatch()
    assert state_of(seventh) == ("sent", "")


@pytest.mark.parametrize(
    ("today", "state"), [(date(2026, 6, 10), "refused"), (date(2026, 6, 11), "sent")]
)
def test_suppression_holds_on_its_last_day_and_ends_the_day_after(
    outbox_file, time_machine, today, state
):
    customer = consenting_customer()
    sensitive_event_record(
        customer=customer,
        kind="bereavement",
        occurred_on=date(2026, 3, 12),
        suppressed_until=date(2026, 6, 10),
    )
    time_machine.move_to(datetime.combine(today, NOON.timetz()), tick=False)
    marketing = _enqueue(customer)
    service = _enqueue(customer, 2, purpose="service")
    outbox_dispatch()
    assert state_of(marketing) == (state, "suppressed" if state == "refused" else "")
    assert state_of(service) == ("sent", "")


def test_suppression_defaults_to_the_kinds_days(db):
    event = sensitive_event_record(
        customer=CustomerFactory(), kind="unemployment", occurred_on=date(2026, 6, 1)
    )
    assert event.suppressed_until == date(2026, 8, 30)


@pytest.mark.parametrize(
    ("is_student", "offer", "state"),
    [
        (True, "loan", ("refused", "student")),
        (True, "credit", ("refused", "student")),
        (True, "insurance", ("sent", "")),
        (False, "loan", ("sent", "")),
    ],
)
def test_no_loan_or_credit_offers_to_students(outbox_file, noon, is_student, offer, state):
    message = _enqueue(consenting_customer(is_student=is_student), offer_kind=offer)
    outbox_dispatch()
    assert state_of(message) == state


def test_expiry_refuses_at_and_after_expires_at(outbox_file, noon):
    customer = consenting_customer()
    expired = _enqueue(customer, 1, expires_at=NOON)
    alive = _enqueue(customer, 2, expires_at=NOON + timedelta(seconds=1))
    outbox_dispatch()
    assert state_of(expired) == ("refused", "expired")
    assert state_of(alive) == ("sent", "")


def test_consent_missing_refused_or_withdrawn_refuses(outbox_file, noon):
    granted = consenting_customer()
    withdrawn = consenting_customer()
    withdrawn.consents.update(withdrawn_at=timezone.now())
    refused = consenting_customer()
    refused.consents.update(is_granted=False)
    only_marketing = consenting_customer(purposes=("marketing",))
    messages = {
        "granted": _enqueue(granted),
        "withdrawn": _enqueue(withdrawn),
        "refused": _enqueue(refused),
        "missing": _enqueue(CustomerFactory()),
        "email without e-mail consent": _enqueue(granted, 2, channel="email"),
        "service without service consent": _enqueue(only_marketing, purpose="service"),
    }
    outbox_dispatch()
    states = {name: state_of(m) for name, m in messages.items()}
    assert states == {
        "granted": ("sent", ""),
        "withdrawn": ("refused", "no_consent"),
        "refused": ("refused", "no_consent"),
        "missing": ("refused", "no_consent"),
        "email without e-mail consent": ("refused", "no_consent"),
        "service without service consent": ("refused", "no_consent"),
    }


def test_no_address_refuses(outbox_file, noon):
    no_phone = consenting_customer(phone="")
    no_email = consenting_customer(channels=("email",), email="")
    sms = _enqueue(no_phone)
    email = _enqueue(no_email, channel="email")
    outbox_dispatch()
    assert state_of(sms) == ("refused", "no_address")
    assert state_of(email) == ("refused", "no_address")
    assert sent_ids(outbox_file) == []


def test_rules_combined_the_first_refusal_wins_and_none_is_sent(outbox_file, time_machine):
    time_machine.move_to(datetime(2026, 6, 10, 21, 0, tzinfo=SHANGHAI), tick=False)
    student = consenting_customer(is_student=True)
    sensitive_event_record(customer=student, kind="illness", occurred_on=date(2026, 6, 1))
    loan = _enqueue(student, 1, offer_kind="loan")
    insurance = _enqueue(student, 2, offer_kind="insurance")
    expired = _enqueue(student, 3, offer_kind="loan", expires_at=timezone.now())
    outbox_dispatch()
    assert state_of(loan) == ("refused", "student")
    assert state_of(insurance) == ("refused", "suppressed")
    assert state_of(expired) == ("refused", "expired")


def test_a_call_task_goes_to_the_customers_rm(outbox_file, noon, team):
    rm = make_rm(team, username="rm_wang")
    customer = consenting_customer(channels=("phone",), owner=rm)
    call = _enqueue(customer, purpose="service", channel="call")
    no_rm = _enqueue(consenting_customer(channels=("phone",)), purpose="service", channel="call")
    outbox_dispatch()
    call.refresh_from_db()
    assert (call.state, call.assigned_to, call.completed_at) == ("sent", rm, None)
    assert state_of(no_rm) == ("refused", "no_address")
    assert list(Message.objects.filter(channel="call", completed_at=None, assigned_to=rm)) == [call]


def test_email_goes_through_djangos_backend(outbox_file, noon, mailoutbox):
    customer = consenting_customer(channels=("email",))
    message = message_enqueue(
        customer=customer,
        channel="email",
        purpose="service",
        occasion="statement",
        subject="Your statement",
        body="Hello",
    )
    outbox_dispatch()
    assert state_of(message) == ("sent", "")
    assert [m.to for m in mailoutbox] == [[customer.email]]
    assert mailoutbox[0].extra_headers["X-Outbox-Message-Id"] == str(message.pk)


def test_a_backend_error_fails_the_message_with_its_error(outbox_file, noon, settings):
    settings.WORKFLOWS_SMS_BACKEND = "tests.workflows.test_rules.BrokenBackend"
    message = _enqueue(consenting_customer())
    outbox_dispatch()
    message.refresh_from_db()
    assert (message.state, message.sent_at) == ("failed", None)
    assert "gateway down" in message.error


class BrokenBackend:
    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def send(self, message, recipient):
        raise ConnectionError("gateway down")
