"""A worker started without -Q consumes the three queues, and /healthz/celery sees it."""

import pytest

from config.celery import app, ping

pytestmark = pytest.mark.integration


def test_a_worker_takes_every_queue_and_the_celery_health_says_so(celery_worker_process, client):
    for queue in ("default", "bulk", "messages"):
        assert ping.apply_async(queue=queue).get(timeout=60) == "pong"
    routed = app.amqp.router.route({}, "loyalty.tasks.evaluate_program_task")
    assert routed["queue"].name == "bulk"

    response = client.get("/healthz/celery")
    assert response.status_code == 200, response.content
    assert response.json()["workers"] == 1
