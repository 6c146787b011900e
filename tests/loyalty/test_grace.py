"""Grace periods: filing a request, deciding on it, and its end."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction

from loyalty.models import GraceEvidence, GracePeriod
from loyalty.services.grace import (
    grace_period_approve,
    grace_period_reject,
    grace_period_request,
    grace_periods_end,
)
from loyalty.tasks import end_grace_periods_task
from tests.factories import CustomerFactory, UserFactory, make_supervisor
from tests.loyalty.factories import ProgramFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def pdf(name: str = "hospital-letter.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def program(db):
    return ProgramFactory(code="bank", name="Bank")


@pytest.fixture
def customer(rm):
    return CustomerFactory(owner=rm)


def request_for(customer, program, rm, **overrides) -> GracePeriod:
    arguments = {
        "customer": customer,
        "program": program,
        "months": 2,
        "reason": GracePeriod.Reason.ILLNESS,
        "explanation": "",
        "files": [pdf()],
        "requested_by": rm,
        **overrides,
    }
    return grace_period_request(**arguments)


def error_codes(error: ValidationError) -> set[str]:
    if hasattr(error, "error_dict"):
        return {e.code for errors in error.error_dict.values() for e in errors}
    return {e.code for e in error.error_list}


# --- Request ----------------------------------------------------------------------------------


@pytest.mark.parametrize("months", [1, 3])
def test_rm_files_a_request_of_one_to_three_months(customer, program, rm, months, media_root):
    grace_period = request_for(
        customer, program, rm, months=months, files=[pdf(), pdf("scan.PNG", PNG)]
    )

    assert (grace_period.status, grace_period.months) == (GracePeriod.Status.PENDING, months)
    assert (grace_period.starts_on, grace_period.ends_on, grace_period.decided_by) == (
        None,
        None,
        None,
    )
    evidence = list(grace_period.evidence.order_by("id"))
    assert [(e.original_name, e.content_type, e.size) for e in evidence] == [
        ("hospital-letter.pdf", "application/pdf", len(PDF)),
        ("scan.PNG", "image/png", len(PNG)),
    ]
    # Stored under a name the server makes, not the one the browser sent.
    assert "hospital-letter" not in evidence[0].file.name
    assert (media_root / evidence[1].file.name).read_bytes() == PNG
    assert grace_period.history.get().history_user == rm


@pytest.mark.parametrize("months", [0, 4])
def test_a_request_outside_one_to_three_months_is_refused(customer, program, rm, months):
    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm, months=months)

    assert error_codes(caught.value) == {"invalid_months"}
    assert not GracePeriod.objects.exists()


def test_other_reason_needs_an_explanation(customer, program, rm):
    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm, reason=GracePeriod.Reason.OTHER, explanation="  ")
    assert error_codes(caught.value) == {"explanation_required"}

    grace_period = request_for(
        customer, program, rm, reason=GracePeriod.Reason.OTHER, explanation="公司破产"
    )
    assert grace_period.explanation == "公司破产"


def test_an_unknown_reason_is_refused(customer, program, rm):
    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm, reason="holiday")
    assert error_codes(caught.value) == {"invalid_reason"}


def test_a_file_named_pdf_that_is_not_one_is_refused(customer, program, rm, media_root):
    junk = pdf("report.pdf", b"MZ\x90\x00 this is a program, not a PDF")

    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm, files=[pdf(), junk])

    assert error_codes(caught.value) == {"file_type"}
    assert "report.pdf" in caught.value.message_dict["files"][0]
    assert not GracePeriod.objects.exists()
    assert not GraceEvidence.objects.exists()
    assert not any(path.is_file() for path in media_root.rglob("*"))


def test_a_png_named_pdf_is_refused(customer, program, rm):
    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm, files=[pdf("letter.pdf", PNG)])
    assert error_codes(caught.value) == {"file_type_mismatch"}


def test_jpeg_evidence_is_accepted(customer, program, rm):
    grace_period = request_for(customer, program, rm, files=[pdf("photo.jpeg", JPEG)])
    assert grace_period.evidence.get().content_type == "image/jpeg"


def test_a_file_over_the_size_limit_is_refused(customer, program, rm, settings):
    settings.LOYALTY_GRACE_MAX_FILE_BYTES = len(PDF)
    request_for(customer, program, rm, files=[pdf()])  # exactly at the limit
    GracePeriod.objects.update(status=GracePeriod.Status.REJECTED)

    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm, files=[pdf(content=PDF + b" ")])

    assert error_codes(caught.value) == {"file_too_large"}


def test_more_files_than_allowed_are_refused(customer, program, rm, settings):
    settings.LOYALTY_GRACE_MAX_FILES = 5

    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm, files=[pdf(f"{n}.pdf") for n in range(6)])
    assert error_codes(caught.value) == {"too_many_files"}

    grace_period = request_for(customer, program, rm, files=[pdf(f"{n}.pdf") for n in range(5)])
    assert grace_period.evidence.count() == 5


def test_a_request_without_evidence_is_refused(customer, program, rm):
    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm, files=[])
    assert error_codes(caught.value) == {"no_files"}


def test_rm_cannot_file_for_another_rms_customer(program, rm, foreign_rm):
    theirs = CustomerFactory(owner=foreign_rm)
    with pytest.raises(ValidationError) as caught:
        request_for(theirs, program, rm)
    assert error_codes(caught.value) == {"not_visible"}


def test_a_user_without_the_permission_cannot_file(customer, program):
    with pytest.raises(PermissionDenied):
        request_for(customer, program, UserFactory(is_superuser=False))


def test_a_second_open_request_for_the_same_customer_and_program_is_refused(
    customer, program, rm, supervisor
):
    first = request_for(customer, program, rm)
    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm)
    assert error_codes(caught.value) == {"already_open"}

    grace_period_approve(grace_period=first, decided_by=supervisor, comment="")
    with pytest.raises(ValidationError):
        request_for(customer, program, rm)  # approved and running

    other_program = ProgramFactory(code="shop")
    assert request_for(customer, other_program, rm).status == GracePeriod.Status.PENDING


def test_every_error_is_reported_at_once(customer, program, rm):
    with pytest.raises(ValidationError) as caught:
        request_for(customer, program, rm, months=5, reason="other", files=[pdf("x.pdf", b"junk")])
    assert error_codes(caught.value) == {"invalid_months", "explanation_required", "file_type"}


# --- Decision ---------------------------------------------------------------------------------


@time_machine.travel(datetime(2026, 1, 31, 9, 0, tzinfo=SHANGHAI), tick=False)
def test_a_supervisor_of_the_team_approves_and_the_period_starts_today(
    customer, program, rm, supervisor
):
    pending = request_for(customer, program, rm, months=1)

    approved = grace_period_approve(grace_period=pending, decided_by=supervisor, comment="好的")

    approved.refresh_from_db()
    assert approved.status == GracePeriod.Status.APPROVED
    assert (approved.decided_by, approved.decision_comment) == (supervisor, "好的")
    # One month from January 31st is the last day of February.
    assert (approved.starts_on, approved.ends_on) == (date(2026, 1, 31), date(2026, 2, 28))
    assert approved.history.first().history_user == supervisor


def test_rm_cannot_approve_own_grace_request(customer, program, rm, team):
    rm.teammembership_set.update(role="supervisor")  # even as a supervisor of the team
    pending = request_for(customer, program, rm)

    with pytest.raises(ValidationError) as caught:
        grace_period_approve(grace_period=pending, decided_by=rm, comment="")

    assert error_codes(caught.value) == {"own_request"}
    pending.refresh_from_db()
    assert pending.status == GracePeriod.Status.PENDING


def test_a_superuser_cannot_approve_their_own_request_either(program):
    boss = UserFactory(is_superuser=True)
    pending = request_for(CustomerFactory(), program, boss)
    with pytest.raises(ValidationError) as caught:
        grace_period_approve(grace_period=pending, decided_by=boss, comment="")
    assert error_codes(caught.value) == {"own_request"}


def test_the_database_refuses_a_decision_by_the_requester(customer, program, rm):
    pending = request_for(customer, program, rm)
    with pytest.raises(IntegrityError), transaction.atomic():
        GracePeriod.objects.filter(pk=pending.pk).update(decided_by=rm)


def test_a_supervisor_of_another_team_cannot_decide(customer, program, rm, other_team):
    stranger = make_supervisor(other_team, username="sup_other")
    pending = request_for(customer, program, rm)

    for decide in (grace_period_approve, grace_period_reject):
        with pytest.raises(ValidationError) as caught:
            decide(grace_period=pending, decided_by=stranger, comment="no")
        assert error_codes(caught.value) == {"not_supervisor"}
    pending.refresh_from_db()
    assert pending.status == GracePeriod.Status.PENDING


def test_a_colleague_rm_of_the_same_team_cannot_decide(customer, program, rm, other_rm):
    pending = request_for(customer, program, rm)
    with pytest.raises(ValidationError) as caught:
        grace_period_approve(grace_period=pending, decided_by=other_rm, comment="")
    assert error_codes(caught.value) == {"not_supervisor"}


def test_a_superuser_may_decide(customer, program, rm):
    pending = request_for(customer, program, rm)
    admin = UserFactory(is_superuser=True)
    assert grace_period_reject(
        grace_period=pending, decided_by=admin, comment="证据不足"
    ).status == (GracePeriod.Status.REJECTED)


def test_reject_needs_a_comment(customer, program, rm, supervisor):
    pending = request_for(customer, program, rm)

    with pytest.raises(ValidationError) as caught:
        grace_period_reject(grace_period=pending, decided_by=supervisor, comment="   ")
    assert error_codes(caught.value) == {"comment_required"}

    rejected = grace_period_reject(
        grace_period=pending, decided_by=supervisor, comment="缺少医院证明"
    )
    rejected.refresh_from_db()
    assert (rejected.status, rejected.decision_comment) == (
        GracePeriod.Status.REJECTED,
        "缺少医院证明",
    )
    assert (rejected.starts_on, rejected.ends_on) == (None, None)


def test_only_a_pending_request_can_be_decided(customer, program, rm, supervisor):
    pending = request_for(customer, program, rm)
    stale_copy = GracePeriod.objects.get(pk=pending.pk)
    grace_period_approve(grace_period=pending, decided_by=supervisor, comment="")

    # A second decision made from a page loaded before the first one landed.
    with pytest.raises(ValidationError) as caught:
        grace_period_reject(grace_period=stale_copy, decided_by=supervisor, comment="no")

    assert error_codes(caught.value) == {"not_pending"}
    assert GracePeriod.objects.get(pk=pending.pk).status == GracePeriod.Status.APPROVED


def test_a_customer_without_a_team_is_decided_by_a_superuser_only(program, rm, supervisor):
    customer = CustomerFactory(owner=rm, team=None)
    pending = request_for(customer, program, rm)
    with pytest.raises(ValidationError):
        grace_period_approve(grace_period=pending, decided_by=supervisor, comment="")


# --- End --------------------------------------------------------------------------------------


def test_an_approved_period_ends_by_itself_once_and_keeps_its_history(
    customer, program, rm, supervisor
):
    with time_machine.travel(datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI), tick=False):
        grace_period = request_for(customer, program, rm, months=3)
        grace_period_approve(grace_period=grace_period, decided_by=supervisor, comment="")
    grace_period.refresh_from_db()
    assert grace_period.ends_on == date(2026, 6, 10)

    with time_machine.travel(datetime(2026, 6, 10, 0, 30, tzinfo=SHANGHAI), tick=False):
        # As of the day before the end date the freeze still holds.
        assert end_grace_periods_task.apply().get() == 0
        assert grace_periods_end(today=date(2026, 6, 9)) == 0
    grace_period.refresh_from_db()
    assert grace_period.status == GracePeriod.Status.APPROVED

    with time_machine.travel(datetime(2026, 6, 11, 0, 30, tzinfo=SHANGHAI), tick=False):
        assert end_grace_periods_task.apply().get() == 1
        assert end_grace_periods_task.apply().get() == 0  # a second run ends nothing more

    grace_period.refresh_from_db()
    assert grace_period.status == GracePeriod.Status.ENDED
    history = list(grace_period.history.order_by("history_date", "history_id"))
    assert [h.status for h in history] == ["pending", "approved", "ended"]
    assert [h.history_user for h in history] == [rm, supervisor, None]


def test_ending_leaves_pending_rejected_and_running_periods_alone(program, rm, supervisor):
    customers = CustomerFactory.create_batch(4, owner=rm)
    with time_machine.travel(datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI), tick=False):
        running_out, running_on, rejected, pending = (
            request_for(c, program, rm, months=m)
            for c, m in zip(customers, (1, 3, 1, 1), strict=True)
        )
        grace_period_approve(grace_period=running_out, decided_by=supervisor, comment="")
        grace_period_approve(grace_period=running_on, decided_by=supervisor, comment="")
        grace_period_reject(grace_period=rejected, decided_by=supervisor, comment="no")

    assert grace_periods_end(today=date(2026, 2, 5)) == 1

    statuses = dict(GracePeriod.objects.values_list("pk", "status"))
    assert statuses == {
        running_out.pk: "ended",
        running_on.pk: "approved",
        rejected.pk: "rejected",
        pending.pk: "pending",
    }


def test_ending_many_periods_takes_the_same_statements_as_ending_a_few(
    program, rm, supervisor, django_assert_num_queries
):
    def approved_periods(count: int) -> None:
        for customer in CustomerFactory.create_batch(count, owner=rm):
            grace_period = request_for(customer, program, rm, months=1)
            grace_period_approve(grace_period=grace_period, decided_by=supervisor, comment="")

    with time_machine.travel(datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI), tick=False):
        approved_periods(2)
    # In a savepoint here (a transaction in production): the chunk (SELECT ... FOR UPDATE),
    # its UPDATE, its history INSERT.
    with django_assert_num_queries(5):
        assert grace_periods_end(today=date(2026, 2, 5)) == 2

    with time_machine.travel(datetime(2026, 1, 5, 10, 0, tzinfo=SHANGHAI), tick=False):
        approved_periods(12)
    with django_assert_num_queries(5):
        assert grace_periods_end(today=date(2026, 2, 5)) == 12
    assert GracePeriod.history.filter(status="ended").count() == 14


def test_the_daily_end_schedule_is_created_on_migrate():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="loyalty.tasks.end_grace_periods_task")
    assert (task.crontab.hour, task.crontab.minute) == ("0", "30")
