"""Health endpoints for load balancers and monitors: no login, cheap, JSON, 200 or 503.

- `/healthz`: this web process can reach its database (`SELECT 1`) and its cache (a set and a
  get). Nothing else: a load balancer calls it every few seconds.
- `/healthz/celery`: at least one worker answers on the control channel within
  `HEALTHZ_CELERY_TIMEOUT` seconds, and every queue (`CELERY_TASK_QUEUES`) is consumed by one of
  them. A broadcast, not a task: a ping task on the `bulk` queue would wait behind an hour-long
  import and report a healthy worker as dead.

Failures are logged with the exception; the answer says only which check failed.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        if cursor.fetchone() != (1,):
            raise RuntimeError("SELECT 1 did not return 1")


def _cache() -> None:
    key = f"healthz:{uuid.uuid4().hex}"
    cache.set(key, "1", 5)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not return what was just stored")
    cache.delete(key)


def _answer(checks: dict[str, str], **extra) -> JsonResponse:
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "error", "checks": checks, **extra}
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
def healthz(request):
    checks = {}
    for name, check in (("database", _database), ("cache", _cache)):
        try:
            check()
        except Exception:
            logger.exception("health check %s failed", name)
            checks[name] = "error"
        else:
            checks[name] = "ok"
    return _answer(checks)


def active_queues(timeout: float) -> dict[str, list[str]]:
    """Worker name -> the queues it consumes, for the workers that answered in time."""
    from config.celery import app

    replies = app.control.inspect(timeout=timeout).active_queues() or {}
    return {worker: [queue["name"] for queue in queues] for worker, queues in replies.items()}


@never_cache
@require_GET
def healthz_celery(request):
    try:
        workers = active_queues(settings.HEALTHZ_CELERY_TIMEOUT)
    except Exception:
        logger.exception("health check celery failed")
        return _answer({"broker": "error"})
    consumed = {queue for queues in workers.values() for queue in queues}
    checks = {"broker": "ok", "workers": "ok" if workers else "error"}
    for queue in settings.CELERY_TASK_QUEUES:
        checks[f"queue:{queue.name}"] = "ok" if queue.name in consumed else "error"
    return _answer(checks, workers=len(workers))
