"""The Celery plumbing end to end: a real worker, the configured broker, results in the DB."""

import pytest
from django_celery_results.models import TaskResult

from config.celery import ping

pytestmark = pytest.mark.integration


def test_a_real_worker_runs_a_task_and_stores_its_result(celery_worker_process):
    result = ping.delay()
    assert result.get(timeout=60) == "pong"
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "config.ping"
