"""The evaluation task and its nightly schedule."""

import pytest
from django.utils import timezone

from loyalty.models import EvaluationRun, Membership
from loyalty.tasks import evaluate_program_task
from tests.factories import CustomerFactory
from tests.loyalty.factories import CriterionGroupFactory, ProgramFactory, TierFactory

pytestmark = pytest.mark.django_db


def test_the_nightly_schedule_is_created_on_migrate():
    from django_celery_beat.models import PeriodicTask

    assert PeriodicTask.objects.filter(task="loyalty.tasks.evaluate_all_programs_task").exists()


def test_the_task_evaluates_the_program_once_per_day():
    program = ProgramFactory()
    CriterionGroupFactory(tier=TierFactory(program=program, rank=1, name="Member"))
    CustomerFactory()
    as_of = timezone.localdate().isoformat()

    first = evaluate_program_task.apply(kwargs={"program_id": program.pk, "as_of": as_of}).get()
    second = evaluate_program_task.apply(kwargs={"program_id": program.pk, "as_of": as_of}).get()

    assert first == second
    assert EvaluationRun.objects.get().status == EvaluationRun.Status.DONE
    assert Membership.objects.count() == 1
