"""Redis, the broker, dies for 30 s in the middle of a campaign's send and comes back from its
append-only file: the worker carries on without a restart, the tasks queued before the outage
run after it, and every offered member gets the campaign's message exactly once.

The test runs a Redis of its own (port 6391, data in a temporary folder): the shared one on
6379 is never touched. It needs `redis-server` on the PATH, on both CI passes (SQLite and
PostgreSQL): the database does not matter to the broker."""

import os
import shutil
import signal
import socket
import subprocess
import time
from decimal import Decimal

import pytest
import redis
from django.utils import timezone
from django_celery_results.models import TaskResult

from tests.integration.workers import broker_app, wait_for, worker_start, worker_stop
from tests.workflows.campaigns import due_campaign
from tests.workflows.conftest import consenting_customer, sent_ids
from workflows.models import CampaignMember, Message
from workflows.tasks import campaigns_launch_task, outbox_dispatch_task

pytestmark = pytest.mark.integration

PORT = 6391
BROKER_URL = f"redis://127.0.0.1:{PORT}/0"
CUSTOMERS = 200
OUTAGE_S = 30


class RedisServer:
    """`redis-server` as a child process, persisting every write (appendfsync always)."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", PORT)) == 0:
                raise RuntimeError(f"port {PORT} is taken: the test needs a Redis of its own")
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed: apt-get install redis-server")
        self.process = subprocess.Popen(  # noqa: S603
            [
                server,
                "--port",
                str(PORT),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.folder),
                "--daemonize",
                "no",
                "--logfile",
                str(self.folder / "redis.log"),
            ],  # fmt: skip
        )
        client = redis.Redis(port=PORT)
        deadline = time.monotonic() + 10
        while True:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        """As a crash does: no shutdown, no last save (the append-only file has every write)."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.kill()


def _send(task) -> str:
    return broker_app(BROKER_URL).send_task(task.name).id


def _succeeded(task_id: str) -> bool:
    return TaskResult.objects.filter(task_id=task_id, status="SUCCESS").exists()


def test_the_broker_down_for_30_s_mid_campaign_loses_and_doubles_no_message(
    transactional_db, tmp_path, own_redis
):
    outbox = tmp_path / "outbox.log"
    for _ in range(CUSTOMERS):
        consenting_customer(purposes=("marketing",))
    first = due_campaign(timezone.now(), control_share=Decimal("0.1"), name="first")
    worker = worker_start(
        broker_url=BROKER_URL,
        extra_env={
            "WORKFLOWS_OUTBOX_FILE": str(outbox),
            "WORKFLOWS_OUTBOX_FILE_DELAY_MS": "60",  # ~180 messages take ~11 s to send
            "WORKFLOWS_OUTBOX_BATCH_SIZE": "20",
            "WORKFLOWS_QUIET_HOURS": "00:00-00:00",  # whenever CI runs
            "WORKFLOWS_MARKETING_PER_DAY": "10",
            "WORKFLOWS_MARKETING_PER_WEEK": "10",
        },
    )
    try:
        launched = _send(campaigns_launch_task)
        wait_for(lambda: _succeeded(launched), timeout=60, what="the first launch")
        _send(outbox_dispatch_task)
        wait_for(lambda: len(sent_ids(outbox)) >= 40, timeout=60, what="sending began")
        # Queued behind the running send (one task at a time): the second campaign's launch
        # and a dispatch, which only Redis holds while it is down.
        second = due_campaign(timezone.now(), control_share=Decimal("0.1"), name="second")
        queued = [_send(campaigns_launch_task), _send(outbox_dispatch_task)]
        # The launch waits in the default queue, the dispatch in the messages queue.
        queues = redis.Redis(port=PORT)
        assert queues.llen("default") + queues.llen("messages") == 2

        own_redis.kill()
        down_at = time.monotonic()
        sent_while_down = len(sent_ids(outbox))
        time.sleep(OUTAGE_S)
        assert len(sent_ids(outbox)) > sent_while_down  # the send went on without the broker
        own_redis.start()
        assert time.monotonic() - down_at >= OUTAGE_S

        # The same worker reconnects by itself and runs what was queued before the outage.
        wait_for(
            lambda: all(_succeeded(task_id) for task_id in queued),
            timeout=90,
            what="the tasks queued before the outage",
        )
        # The worker may take the queued dispatch before the queued launch (two queues): the
        # next every-minute dispatch, as beat sends it, sends what that launch queued.
        again = _send(outbox_dispatch_task)
        wait_for(lambda: _succeeded(again), timeout=90, what="the next dispatch")
    finally:
        worker_stop(worker)

    offered = set(
        CampaignMember.objects.filter(campaign__in=[first, second], is_control=False).values_list(
            "message_id", flat=True
        )
    )
    lines = sent_ids(outbox)
    members = CampaignMember.objects.filter(campaign__in=[first, second]).count()
    assert members == 2 * CUSTOMERS
    assert None not in offered
    assert len(offered) > CUSTOMERS  # both campaigns, less their control groups
    assert len(lines) == len(set(lines)), "a message was sent twice"
    assert set(lines) == offered, "a message was lost (or one nobody was offered was sent)"
    states = set(Message.objects.filter(pk__in=offered).values_list("state", flat=True))
    assert states == {"sent"}
