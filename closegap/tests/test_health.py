"""Liveness (/healthz/) and readiness (/readyz/): the database, the Celery broker and a Redis cache, each named."""

import os
import socket
from unittest import mock

import pytest
from django.db import OperationalError, connections
from django.test import override_settings


def closed_port() -> int:
    """A loopback port nothing listens on: bound for a moment to get a free number, then closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_says_the_process_is_up_without_asking_any_service(client):
    response = client.get("/healthz/")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_readyz_answers_200_naming_each_check_and_is_never_cached(client, db):
    response = client.get("/readyz/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert set(body["checks"].values()) == {"ok"}
    assert "no-store" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]


def test_readyz_leaves_out_the_broker_when_tasks_run_in_process(client, db):
    with override_settings(CELERY_TASK_ALWAYS_EAGER=True, CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        assert "broker" not in client.get("/readyz/").json()["checks"]
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL="memory://"):
        assert "broker" not in client.get("/readyz/").json()["checks"]


def test_readyz_answers_503_naming_the_database_when_it_is_down(client, db):
    with mock.patch.object(connections["default"], "cursor", side_effect=OperationalError("connection refused")):
        response = client.get("/readyz/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "failed: OperationalError"
    assert "connection refused" not in response.content.decode()  # the reason goes to the log only


def test_readyz_answers_503_naming_the_broker_when_it_is_down(client, db):
    broker = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=broker):
        response = client.get("/readyz/")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["broker"].startswith("failed: ")
    assert checks["database"] == "ok"


@pytest.mark.redis
def test_readyz_answers_200_when_the_broker_answers(client, db):
    with override_settings(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=os.environ["REDIS_URL"]):
        response = client.get("/readyz/")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"] == "ok"


def test_readyz_answers_503_naming_a_redis_cache_that_is_down(client, db):
    location = f"redis://127.0.0.1:{closed_port()}/0"
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location}}
    ):
        response = client.get("/readyz/")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["cache"].startswith("failed: ")
    assert checks["database"] == "ok"


def test_readyz_only_answers_reads(client, db):
    assert client.post("/readyz/").status_code == 405
