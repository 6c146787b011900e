"""Claims: only what a dispatcher claimed is sent, and two dispatchers never send one twice."""

import threading

import pytest
from django.db import connection

from crm.models import Customer
from tests.workflows.conftest import consenting_customer, sent_ids
from workflows.models import Message, MessageTemplate
from workflows.outbox.dispatch import messages_claim, messages_stale_sending, outbox_dispatch
from workflows.outbox.enqueue import messages_enqueue_for


def _campaign(count: int) -> None:
    MessageTemplate.objects.get_or_create(
        code="spring",
        channel="sms",
        language="en",
        defaults={"purpose": "marketing", "body": "Spring offer for {{ customer.name }}"},
    )
    ids = [consenting_customer().pk for _ in range(count)]
    messages_enqueue_for(
        Customer.objects.filter(pk__in=ids),
        channel="sms",
        purpose="marketing",
        occasion="campaign:1",
        template_code="spring",
    )


@pytest.mark.django_db
def test_bulk_enqueued_messages_are_rendered_when_sent(outbox_file, noon):
    _campaign(3)
    result = outbox_dispatch(batch_size=2)
    assert result.sent == 3
    bodies = set(Message.objects.values_list("body", flat=True))
    assert bodies == {f"Spring offer for {c.name}" for c in Customer.objects.all()}
    assert sorted(sent_ids(outbox_file)) == sorted(Message.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_a_message_left_sending_is_never_sent_again_and_is_reported(
    outbox_file, noon, time_machine
):
    _campaign(2)
    first, second = Message.objects.order_by("pk")
    assert messages_claim([first.pk], now=noon) == [first.pk]  # a worker died after this
    outbox_dispatch()
    assert sent_ids(outbox_file) == [second.pk]
    first.refresh_from_db()
    assert (first.state, first.attempts) == ("sending", 1)
    assert list(messages_stale_sending(minutes=15)) == []
    time_machine.shift(16 * 60)
    assert list(messages_stale_sending(minutes=15)) == [first]


def _in_threads(target, count: int = 2) -> list:
    results: list = []
    barrier = threading.Barrier(count)

    def run():
        try:
            barrier.wait()
            results.append(target())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a race needs PostgreSQL's concurrency"
)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_claims_of_the_same_ids_split_them(noon):
    _campaign(50)
    ids = list(Message.objects.values_list("pk", flat=True))
    first, second = _in_threads(lambda: messages_claim(ids, now=noon))
    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(ids)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_over_the_same_batch_send_each_message_once(outbox_file, noon, settings):
    settings.WORKFLOWS_MARKETING_PER_DAY = 1
    _campaign(60)
    customer = Customer.objects.first()
    Message.objects.create(
        key="marketing:x", customer=customer, channel="sms", purpose="marketing",
        occasion="x", body="second of the day",
    )  # fmt: skip
    results = _in_threads(lambda: outbox_dispatch(batch_size=25))
    ids = sent_ids(outbox_file)
    assert len(ids) == len(set(ids)) == 60
    assert sum(r.sent for r in results) == 60
    assert Message.objects.filter(state="refused", refusal="frequency_cap").count() == 1
