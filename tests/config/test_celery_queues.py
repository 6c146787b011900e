"""Tasks go to their queue by name: bulk work never holds up a message."""

import pytest
from django.conf import settings

from config.celery import app


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


@pytest.mark.parametrize(
    ("task_name", "queue"),
    [
        ("crm.tasks.run_import_task", "bulk"),
        ("loyalty.tasks.evaluate_program_task", "bulk"),
        ("loyalty.tasks.evaluate_all_programs_task", "bulk"),
        ("loyalty.tasks.points_expire_task", "bulk"),
        ("loyalty.tasks.refresh_customer_values_task", "bulk"),
        ("workflows.tasks.compute_kpis_task", "bulk"),
        ("crm.tasks.clv_refresh_task", "bulk"),  # the pattern covers tasks yet to come
        ("workflows.tasks.kpis_refresh_task", "bulk"),
        ("workflows.tasks.outbox_dispatch_task", "messages"),
        ("workflows.tasks.webhooks_deliver_task", "messages"),
        ("workflows.tasks.tickets_watch_task", "default"),
        ("config.ping", "default"),
    ],
)
def test_tasks_are_routed_by_name(task_name, queue):
    assert _queue_of(task_name) == queue


def test_every_routed_task_exists():
    """A renamed task would silently fall back to the default queue."""
    app.loader.import_default_modules()
    for name in settings.CELERY_TASK_ROUTES:
        if "*" not in name:
            assert name in app.tasks, name


def test_the_development_worker_consumes_every_queue():
    procfile = (settings.BASE_DIR / "Procfile.dev").read_text()
    worker = next(line for line in procfile.splitlines() if line.startswith("worker:"))
    queues = set(worker.split("-Q", 1)[1].split()[0].split(","))
    assert queues == {queue.name for queue in settings.CELERY_TASK_QUEUES}


def test_production_runs_one_worker_per_queue_and_exactly_one_beat():
    procfile = (settings.BASE_DIR / "Procfile").read_text().splitlines()
    workers = [line for line in procfile if " worker " in line]
    consumed = [line.split("-Q", 1)[1].split()[0] for line in workers]
    assert sorted(consumed) == sorted(queue.name for queue in settings.CELERY_TASK_QUEUES)
    assert sum(" beat " in line for line in procfile) == 1
    readme = (settings.BASE_DIR / "README.md").read_text()
    assert all(line in readme for line in procfile)  # the README shows this very file
