"""At most once with a real worker: a worker SIGKILLed while sending a batch, then another
one; no message is sent twice, every one is sent or visibly left "sending"."""

import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings

from config.celery import app
from crm.models import Customer
from tests.integration.conftest import ROOT, _database_url_of_test_db, _wait_until_ready
from tests.workflows.conftest import consenting_customer, sent_ids
from workflows.models import Message, MessageTemplate
from workflows.outbox.enqueue import messages_enqueue_for
from workflows.tasks import outbox_dispatch_task

pytestmark = pytest.mark.integration

MESSAGES = 200
BATCH = 20


def _worker(outbox_file, *, delay_ms: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": _database_url_of_test_db(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "WORKFLOWS_OUTBOX_FILE": str(outbox_file),
        "WORKFLOWS_OUTBOX_FILE_DELAY_MS": str(delay_ms),
        "WORKFLOWS_OUTBOX_BATCH_SIZE": str(BATCH),
    }
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    _wait_until_ready(worker)
    return worker


def test_a_killed_worker_sends_no_message_twice(transactional_db, tmp_path):
    app.control.purge()
    outbox_file = tmp_path / "outbox.log"
    MessageTemplate.objects.create(code="notice", channel="sms", language="en", body="Notice")
    ids = [consenting_customer(purposes=("service",)).pk for _ in range(MESSAGES)]
    messages_enqueue_for(
        Customer.objects.filter(pk__in=ids),
        channel="sms",
        purpose="service",  # service: quiet hours and caps do not apply, whenever CI runs
        occasion="notice:1",
        template_code="notice",
    )

    slow = _worker(outbox_file, delay_ms=20)
    try:
        outbox_dispatch_task.delay()
        deadline = time.monotonic() + 30
        while len(sent_ids(outbox_file)) < 3 * BATCH // 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(slow.pid, signal.SIGKILL)  # mid-batch: the second batch is being sent
        slow.wait(timeout=10)
    finally:
        if slow.poll() is None:
            slow.kill()
    sent_before_restart = len(sent_ids(outbox_file))
    assert 0 < sent_before_restart < MESSAGES

    fresh = _worker(outbox_file, delay_ms=0)
    try:
        outbox_dispatch_task.delay().get(timeout=60)
    finally:
        fresh.terminate()
        fresh.wait(timeout=20)

    lines = sent_ids(outbox_file)
    assert len(lines) == len(set(lines)), "a message was sent twice"
    states = dict(Message.objects.values_list("pk", "state"))
    assert set(states.values()) <= {"sent", "sending"}
    sending = {pk for pk, state in states.items() if state == "sending"}
    assert 0 < len(sending) <= BATCH  # the killed worker's batch, left for review
    sent = {pk for pk, state in states.items() if state == "sent"}
    assert sent <= set(lines)  # everything recorded as sent reached the backend
    assert set(lines) <= sent | sending
