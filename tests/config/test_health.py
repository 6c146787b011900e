"""/healthz (database and cache) and /healthz/celery (workers and their queues)."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config import health


@pytest.mark.django_db
def test_healthz_is_200_without_login_and_cheap(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert len(queries) == 1
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client, monkeypatch):
    def broken():
        raise ConnectionError("connection refused")

    monkeypatch.setattr(health, "_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "error", "cache": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_cache_loses_what_it_stored(client, monkeypatch):
    monkeypatch.setattr(cache, "get", lambda *args, **kwargs: None)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error"


def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


ALL_QUEUES = ["default", "bulk", "messages"]


def test_celery_health_is_200_when_workers_consume_every_queue(client, monkeypatch):
    monkeypatch.setattr(
        health,
        "active_queues",
        lambda timeout: {"w1@a": ["default", "messages"], "w2@b": ["bulk"]},
    )
    response = client.get("/healthz/celery")
    assert response.status_code == 200
    body = response.json()
    assert body["workers"] == 2
    assert body["checks"] == {
        "broker": "ok",
        "workers": "ok",
        **{f"queue:{queue}": "ok" for queue in ALL_QUEUES},
    }


def test_celery_health_is_503_when_a_queue_has_no_worker(client, monkeypatch):
    monkeypatch.setattr(health, "active_queues", lambda timeout: {"w1@a": ["default"]})
    response = client.get("/healthz/celery")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["queue:bulk"] == "error"
    assert checks["queue:messages"] == "error"
    assert checks["queue:default"] == "ok"


def test_celery_health_is_503_without_workers_or_broker(client, monkeypatch):
    monkeypatch.setattr(health, "active_queues", lambda timeout: {})
    response = client.get("/healthz/celery")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"] == "error"

    def unreachable(timeout):
        raise ConnectionError("broker down")

    monkeypatch.setattr(health, "active_queues", unreachable)
    response = client.get("/healthz/celery")
    assert response.status_code == 503
    assert response.json()["checks"] == {"broker": "error"}
