"""LOG_FORMAT=json: one JSON object per line, with the request's id."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.logging import JsonFormatter, RequestIdFilter

ROOT = Path(__file__).resolve().parents[2]


def _record(message="imported %s rows", args=(12,), exc_info=None) -> logging.LogRecord:
    record = logging.LogRecord("crm.imports", logging.WARNING, __file__, 1, message, args, exc_info)
    RequestIdFilter().filter(record)
    return record


def test_a_json_line_has_time_level_logger_message_and_request_id():
    line = JsonFormatter().format(_record())
    entry = json.loads(line)
    assert entry["message"] == "imported 12 rows"
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "crm.imports"
    assert entry["request_id"] == "-"  # outside a request
    assert entry["time"].endswith("+00:00")
    assert "\n" not in line


def test_a_traceback_stays_inside_the_one_line():
    try:
        raise ValueError("bad row")
    except ValueError:
        line = JsonFormatter().format(_record(exc_info=sys.exc_info()))
    assert "\n" not in line
    assert "ValueError: bad row" in json.loads(line)["exc_info"]


@pytest.mark.django_db
def test_each_request_gets_an_id_that_its_log_lines_and_response_carry(client, caplog):
    caplog.set_level(logging.WARNING, logger="django.request")
    response = client.get("/no-such-page/")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    records = [r for r in caplog.records if r.name == "django.request"]
    assert records
    assert {r.request_id for r in records} == {request_id}

    given = client.get("/no-such-page/", HTTP_X_REQUEST_ID="lb-1234-abcd")
    assert given["X-Request-ID"] == "lb-1234-abcd"
    forged = client.get("/no-such-page/", HTTP_X_REQUEST_ID="<script>\nfake line")
    assert forged["X-Request-ID"] != "<script>\nfake line"


def test_log_format_is_chosen_by_the_environment():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_DEBUG": "1",
        "LOG_FORMAT": "json",
    }
    code = "import django, logging; django.setup(); logging.getLogger('x').warning('hello %s', 1)"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {"logger": "x", "message": "hello 1"}.items() <= lines[-1].items()

    bad = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "LOG_FORMAT": "xml"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0
    assert "LOG_FORMAT must be" in bad.stderr
