"""The nightly tier run end to end: beat's task on a real worker flags unusual spend, then
queues one evaluation per program, which the same worker runs."""

import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from loyalty.models import EvaluationRun, Membership
from loyalty.tasks import evaluate_all_programs_task
from tests.factories import CustomerFactory, TransactionFactory
from tests.loyalty.factories import (
    ConditionFactory,
    CriterionGroupFactory,
    ProgramFactory,
    TierFactory,
)

pytestmark = pytest.mark.integration


def _wait_for_done_run(program, *, timeout_s: float = 60) -> EvaluationRun:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        run = EvaluationRun.objects.filter(program=program).first()
        if run is not None and run.status == EvaluationRun.Status.DONE:
            return run
        time.sleep(0.2)
    raise AssertionError(f"no finished evaluation of {program} within {timeout_s} s")


def test_the_nightly_task_evaluates_every_active_program_on_a_real_worker(
    celery_worker_process,
):
    program = ProgramFactory(code="bank")
    CriterionGroupFactory(tier=TierFactory(program=program, rank=1, name="Classic"))
    gold = TierFactory(program=program, rank=3, name="Gold")
    ConditionFactory(group=CriterionGroupFactory(tier=gold), parameters={})
    ProgramFactory(code="paused", is_active=False)
    yesterday = timezone.localdate() - timedelta(days=1)
    created = timezone.make_aware(
        datetime.combine(yesterday - timedelta(days=400), datetime.min.time())
    )
    big, small = CustomerFactory(created_at=created), CustomerFactory(created_at=created)
    TransactionFactory(
        customer=big,
        amount=Decimal("30000"),
        occurred_at=timezone.make_aware(datetime.combine(yesterday, datetime.min.time())),
    )

    result = evaluate_all_programs_task.delay(as_of=yesterday.isoformat())

    assert result.get(timeout=60) == [program.pk]
    run = _wait_for_done_run(program)
    assert run.as_of == yesterday
    assert (run.customers_evaluated, run.memberships_created) == (2, 2)
    ranks = dict(Membership.objects.values_list("customer_id", "tier__rank"))
    assert ranks == {big.pk: 3, small.pk: 1}
