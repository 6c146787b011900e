"""Celery workers for the fault tests: started with the test-only fault points, on the test
database, on the run's broker or on a broker of the test's own; killed the way a machine
kills them."""

import functools
import os
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery
from django.conf import settings

from config.celery import app
from tests.integration.conftest import ROOT, _database_url_of_test_db


def worker_start(
    *, extra_env: dict[str, str] | None = None, broker_url: str | None = None
) -> subprocess.Popen:
    """A prefork worker with one pool process: a SIGKILLed pool process is replaced by the
    worker, which requeues the task it held (task_acks_late + task_reject_on_worker_lost)."""
    broker_url = broker_url or settings.CELERY_BROKER_URL
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": _database_url_of_test_db(),
        "CELERY_BROKER_URL": broker_url,
        **(extra_env or {}),
    }
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork",
         "--concurrency", "1", "--loglevel", "WARNING", "--without-gossip",
         "--without-mingle", "--include", "tests.integration.fault_hooks"],
        cwd=ROOT,
        env=env,
    )  # fmt: skip
    try:
        worker_wait_until_ready(worker, broker_url=broker_url)
    except BaseException:
        worker_stop(worker)
        raise
    return worker


def worker_wait_until_ready(
    worker: subprocess.Popen, *, broker_url: str, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    client = broker_app(broker_url)
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the Celery worker exited with {worker.returncode}")
        if client.control.ping(timeout=1.0):
            return
    raise RuntimeError("the Celery worker did not answer a ping in time")


@functools.cache
def broker_app(broker_url: str) -> Celery:
    """The project's app on the run's broker; on another broker, a bare client app that sends
    the project's tasks by name (the project's app keeps its connection pools)."""
    if broker_url == settings.CELERY_BROKER_URL:
        return app
    client = Celery("fault-tests", set_as_current=False)
    # Celery prefers the CELERY_BROKER_URL of the environment (the run's broker) to
    # `broker_url`; the read and write URLs come before both.
    client.conf.update(
        broker_url=broker_url, broker_read_url=broker_url, broker_write_url=broker_url
    )
    # The project's queues and routes, so a task lands where the worker looks for it.
    client.conf.update(
        task_default_queue=settings.CELERY_TASK_DEFAULT_QUEUE,
        task_queues=settings.CELERY_TASK_QUEUES,
        task_routes=settings.CELERY_TASK_ROUTES,
    )
    return client


def worker_stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)


def pid_when_paused(marker: Path, *, timeout: float = 60) -> int:
    """The pid of the pool process that reached the fault point, once it has."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker.exists() and marker.read_text():
            return int(marker.read_text())
        time.sleep(0.05)
    raise AssertionError(f"the worker did not reach the fault point within {timeout} s")


def wait_for(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")
