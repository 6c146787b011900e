"""A worker's pool process SIGKILLed inside a tier evaluation and inside an import (as the
OOM killer does): the worker requeues the task it held (task_acks_late +
task_reject_on_worker_lost), its new pool process runs it again, and the result is the one a
clean run gives on the same data: no duplicate, nothing half written."""

import os
import random
import signal
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count
from django.utils import timezone
from django_celery_results.models import TaskResult

from config.celery import app
from crm.models import Customer, ImportJob, ImportRowError, Source, SourceRecord
from crm.services.imports import import_job_create, import_job_run
from crm.tasks import run_import_task
from loyalty.models import EvaluationRun, Membership, MembershipChange
from loyalty.tasks import evaluate_program_task
from tests.crm.imports.conftest import csv_bytes
from tests.factories import CustomerFactory, TransactionFactory
from tests.integration.workers import pid_when_paused, wait_for, worker_start, worker_stop
from tests.loyalty.factories import SHANGHAI, member, tiered_program

pytestmark = pytest.mark.integration

CUSTOMERS = 240
IMPORT_ROWS = 3000
CHUNK_ROWS = 500


def _kill_at_fault_point(tmp_path, point: str, send, *, call: int = 1, env=None):
    """Start a worker that pauses at `point`, send the task, SIGKILL the pool process there;
    returns the still running worker (its new pool process takes the requeued task)."""
    marker = tmp_path / f"{point}.pid"
    worker = worker_start(
        extra_env={
            "FAULT_PAUSE_AT": point,
            "FAULT_PAUSE_CALL": str(call),
            "FAULT_MARKER": str(marker),
            **(env or {}),
        }
    )
    try:
        result = send()
        pid = pid_when_paused(marker)
        assert pid != worker.pid  # the pool process, not the worker's main process
        return worker, pid, result
    except BaseException:
        worker_stop(worker)
        raise


def _tiers_and_history(program) -> tuple[dict, list]:
    tiers = dict(
        Membership.objects.filter(program=program).values_list("customer_id", "tier__rank")
    )
    history = sorted(
        MembershipChange.objects.filter(program=program).values_list(
            "customer_id", "kind", "from_tier__rank", "to_tier__rank", "evaluated_on"
        ),
        key=repr,
    )
    return tiers, history


def test_a_tier_evaluation_killed_midway_ends_as_a_clean_run(transactional_db, tmp_path):
    app.control.purge()
    clean, faulty = tiered_program("clean", "Clean"), tiered_program("faulty", "Faulty")
    as_of = timezone.localdate() - timedelta(days=1)
    rng = random.Random(10)
    created = datetime(2024, 1, 1, tzinfo=SHANGHAI)
    for number in range(CUSTOMERS):
        customer = CustomerFactory(created_at=created)
        for _ in range(rng.randint(0, 4)):
            TransactionFactory(
                customer=customer,
                amount=Decimal(rng.choice(["900", "2500", "4000", "12000", "31000"])),
                payment_method=rng.choice(["card", "cash"]),
                occurred_at=datetime.combine(
                    as_of - timedelta(days=rng.randint(1, 300)), time(12), tzinfo=SHANGHAI
                ),
            )
        if number % 3 == 0:  # members already: some move up, some stay
            for program in (clean, faulty):
                member(customer, program, rank=1 + number % 2)

    clean_run = evaluate_program_task.apply(
        kwargs={"program_id": clean.pk, "as_of": as_of.isoformat()}
    )
    assert clean_run.successful(), clean_run.traceback
    worker, pid, _result = _kill_at_fault_point(
        tmp_path,
        "evaluation.record",
        lambda: evaluate_program_task.delay(program_id=faulty.pk, as_of=as_of.isoformat()),
    )
    try:
        # Paused inside the evaluation's transaction: nothing of it is visible yet.
        assert not MembershipChange.objects.filter(program=faulty).exists()
        os.kill(pid, signal.SIGKILL)
        wait_for(
            lambda: EvaluationRun.objects.filter(
                program=faulty, status=EvaluationRun.Status.DONE
            ).exists(),
            timeout=90,
            what="the requeued evaluation finished",
        )
    finally:
        worker_stop(worker)

    expected_tiers, expected_history = _tiers_and_history(clean)
    tiers, history = _tiers_and_history(faulty)
    assert len(expected_tiers) == CUSTOMERS
    assert {kind for _, kind, *_rest in expected_history} >= {"joined", "upgrade"}
    assert tiers == expected_tiers
    assert history == expected_history  # one row per change: none written twice
    runs = EvaluationRun.objects.filter(program__in=[clean, faulty])
    assert runs.count() == 2  # one run per (program, day)
    figures = [
        runs.filter(program=program).values_list(
            "status", "customers_evaluated", "memberships_created", "upgrades", "downgrades"
        )[0]
        for program in (clean, faulty)
    ]
    assert figures[0] == figures[1]


HEADER = ["客户编号", "姓名", "手机号码", "电子邮箱", "出生日期"]


def _customer_rows() -> list[list[object]]:
    rows: list[list[object]] = [HEADER]
    for number in range(1, IMPORT_ROWS + 1):
        phone = "12345" if number % 97 == 0 else f"139{number:08d}"  # a refused row now and then
        external_id = "X-7" if number == 2900 else f"X-{number}"  # an id seen far earlier
        birth = date(1960, 1, 1) + timedelta(days=number * 7)
        rows.append(
            [external_id, f"客户{number}", phone, f"c{number}@example.com", birth.isoformat()]
        )
    return rows


def _imported(source: str) -> dict[str, tuple]:
    return {
        external_id: values
        for external_id, *values in SourceRecord.objects.filter(source=source).values_list(
            "external_id",
            "customer__name",
            "customer__phone",
            "customer__email",
            "customer__birth_date",
        )
    }


def _report(job: ImportJob) -> tuple:
    job.refresh_from_db()
    errors = list(
        ImportRowError.objects.filter(job=job)
        .order_by("row_number", "column")
        .values_list("row_number", "column", "reason")
    )
    counts = (job.status, job.rows_read, job.rows_created, job.rows_updated)
    return (*counts, job.rows_unchanged, job.rows_refused, errors)


def test_an_import_killed_midway_ends_as_a_clean_run(transactional_db, tmp_path, settings):
    app.control.purge()
    content = csv_bytes(_customer_rows())
    settings.CRM_IMPORT_CHUNK_ROWS = CHUNK_ROWS

    def new_job(source: str) -> ImportJob:
        upload = SimpleUploadedFile("customers.csv", content)
        return import_job_create(actor=None, source=source, kind="customers", uploaded_file=upload)

    clean = import_job_run(job_id=new_job(Source.SHOP).pk)
    faulty = new_job(Source.POS)
    worker, pid, result = _kill_at_fault_point(
        tmp_path,
        "import.chunk",
        lambda: run_import_task.delay(job_id=faulty.pk),
        call=3,  # in the third chunk's transaction: two chunks committed
        env={"CRM_IMPORT_CHUNK_ROWS": str(CHUNK_ROWS)},
    )
    try:
        faulty.refresh_from_db()
        assert (faulty.status, faulty.rows_read) == ("running", 2 * CHUNK_ROWS)
        os.kill(pid, signal.SIGKILL)
        # The requeued task has run to its end in the new pool process.
        wait_for(
            lambda: TaskResult.objects.filter(task_id=result.id, status="SUCCESS").exists(),
            timeout=90,
            what="the requeued import task",
        )
    finally:
        worker_stop(worker)

    faulty.refresh_from_db()
    assert faulty.status == "done", f"the requeued import left the job {faulty.status!r}"
    expected = _imported(Source.SHOP)
    assert len(expected) == IMPORT_ROWS - IMPORT_ROWS // 97 - 1
    assert _imported(Source.POS) == expected
    assert _report(faulty)[1:] == _report(clean)[1:]
    assert _report(faulty)[0] == "done"
    duplicates = (
        SourceRecord.objects.values("source", "external_id").annotate(n=Count("id")).filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert Customer.objects.count() == 2 * len(expected)
    assert Customer.history.count() == 2 * len(expected)  # one "created" each, none twice
