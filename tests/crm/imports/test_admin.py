"""The admin flow as a supervisor uses it: upload, preview, confirm, watch, download."""

import pytest
from django.urls import reverse

from crm.models import ImportJob, Source, Transaction
from tests.crm.imports.conftest import csv_bytes, import_now, upload
from tests.factories import CustomerFactory, SourceRecordFactory

ADD = reverse("admin:crm_importjob_add")
ROWS = [
    ["交易编号", "客户编号", "金额", "交易时间", "商户"],
    ["T1", "SH-001", "100.00", "2025-03-07 14:03", "盒马"],
    ["T2", "SH-001", "-5", "2025-03-07 14:03", "盒马"],
    ["T3", "SH-001", "5", "2025-03-07 14:03", "=cmd|' /C calc'!A0"],
]


@pytest.fixture
def customer(rm):
    """A customer of the supervisor's team."""
    record = SourceRecordFactory(
        source=Source.SHOP, external_id="SH-001", customer=CustomerFactory(owner=rm)
    )
    return record.customer


def _job_url(job: ImportJob, view: str = "change") -> str:
    return reverse(f"admin:crm_importjob_{view}", args=[job.pk])


@pytest.fixture
def eager_tasks(monkeypatch):
    """The import task runs here when published: the worker's path, minus the broker."""
    from crm.tasks import run_import_task

    monkeypatch.setattr(run_import_task, "delay", lambda **kw: run_import_task.apply(kwargs=kw))


@pytest.mark.django_db
def test_supervisor_uploads_previews_and_confirms(
    client, supervisor, customer, django_capture_on_commit_callbacks, eager_tasks
):
    client.force_login(supervisor)
    data = {"source": Source.SHOP, "kind": ImportJob.Kind.TRANSACTIONS}
    response = client.post(ADD, {**data, "file": upload(csv_bytes(ROWS), "3月交易.csv")})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response.url == _job_url(job)
    assert job.created_by == supervisor
    assert job.original_name == "3月交易.csv"
    assert job.file.name.endswith(f"{job.uuid}.csv")  # a name the server made

    page = client.get(_job_url(job)).content.decode()
    assert "Would create: 1" in page
    assert "Would refuse: 2" in page
    assert "The amount is negative." in page
    assert "Confirm import" in page
    assert Transaction.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(_job_url(job, "confirm"))
    assert response.status_code == 302
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.rows_created, job.rows_refused) == ("done", 1, 2)
    assert Transaction.objects.get().customer == customer
    page = client.get(_job_url(job)).content.decode()
    assert "Download the refused rows" in page
    assert "Confirm import" not in page


@pytest.mark.django_db
def test_upload_of_a_fake_workbook_is_refused_in_the_form(client, supervisor):
    client.force_login(supervisor)
    data = {"source": Source.SHOP, "kind": ImportJob.Kind.TRANSACTIONS}
    response = client.post(ADD, {**data, "file": upload(b"just text, really", "x.xlsx")})
    assert response.status_code == 200
    assert "does not match its name" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_upload_over_the_size_limit_is_refused(client, supervisor, settings):
    settings.CRM_IMPORT_MAX_BYTES = 50
    client.force_login(supervisor)
    data = {"source": Source.SHOP, "kind": ImportJob.Kind.TRANSACTIONS}
    response = client.post(ADD, {**data, "file": upload(csv_bytes(ROWS), "t.csv")})
    assert "larger than" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_rm_without_run_import_gets_403(client, rm, supervisor, customer):
    job = import_now(csv_bytes(ROWS), kind=ImportJob.Kind.TRANSACTIONS, source=Source.SHOP)
    client.force_login(rm)
    assert client.get(ADD).status_code == 403
    assert client.get(reverse("admin:crm_importjob_changelist")).status_code == 403
    assert client.get(_job_url(job)).status_code == 403
    assert client.post(_job_url(job, "confirm")).status_code == 403
    assert client.get(_job_url(job, "refused")).status_code == 403
    assert client.get(reverse("admin:crm_columnmapping_changelist")).status_code == 403


@pytest.mark.django_db
def test_a_supervisor_sees_only_their_own_imports(client, supervisor, customer):
    job = import_now(csv_bytes(ROWS), kind=ImportJob.Kind.TRANSACTIONS, source=Source.SHOP)
    client.force_login(supervisor)
    assert client.get(_job_url(job)).status_code == 404


@pytest.mark.django_db
def test_refused_rows_download_is_excel_ready_and_never_a_formula(client, supervisor, customer):
    client.force_login(supervisor)
    job = import_now(
        csv_bytes(ROWS), kind=ImportJob.Kind.TRANSACTIONS, source=Source.SHOP, actor=supervisor
    )
    response = client.get(_job_url(job, "refused"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeffrow,column,value,reason\r\n")
    lines = body.splitlines()
    assert lines[1] == "3,金额,'-5,The amount is negative."
    assert lines[2].startswith("4,商户,'=cmd|' /C calc'!A0,")


@pytest.mark.django_db
def test_column_mapping_admin_checks_the_field_belongs_to_the_kind(client, supervisor):
    client.force_login(supervisor)
    url = reverse("admin:crm_columnmapping_add")
    data = {
        "source": Source.POS,
        "kind": ImportJob.Kind.BALANCES,
        "header": "卡号",
        "field": "merchant",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "does not belong" in response.content.decode()
    response = client.post(url, {**data, "field": "customer_external_id"})
    assert response.status_code == 302
