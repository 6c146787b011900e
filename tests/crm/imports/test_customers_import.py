"""Customers keyed by their source record; changes kept in history; owners by who imports."""

from datetime import date

import pytest

from crm.models import Customer, ImportJob, Source, SourceRecord
from tests.crm.imports.conftest import csv_bytes, import_now, refused, xlsx_bytes
from tests.factories import CustomerFactory, SourceRecordFactory

CUSTOMERS = ImportJob.Kind.CUSTOMERS
HEADER = ["客户编号", "姓名", "手机号码", "电子邮箱", "出生日期", "类型", "学生"]
ROWS = [
    ["CB-1", "王小明", "+86 138-0013-8000", "Wang@Example.com", "1988/5/17", "个人", "否"],
    ["CB-2", "上海某某贸易有限公司", "13900139000", "", "", "企业", ""],
    ["CB-3", "李雷", "12345", "", "", "", ""],
    ["CB-4", "@李雷", "", "", "", "", ""],
    ["CB-1", "王小明", "", "", "", "", ""],
]


def _history_count() -> int:
    return Customer.history.count()


@pytest.mark.django_db
def test_utf8_bom_customer_file_creates_customers_with_source_records():
    content = b"\xef\xbb\xbf" + csv_bytes([HEADER, *ROWS])
    job = import_now(content, kind=CUSTOMERS)

    assert job.encoding == "utf-8-sig"
    assert (job.rows_created, job.rows_refused) == (2, 3)
    assert refused(job) == [
        (4, "手机号码", "Not a valid phone number."),
        (5, "姓名", "Starts like a spreadsheet formula (= + - @): not imported."),
        (6, "客户编号", "Row 2 has the same id."),
    ]
    wang = SourceRecord.objects.get(source=Source.CORE_BANKING, external_id="CB-1").customer
    assert (wang.name, wang.phone, wang.email) == ("王小明", "+8613800138000", "wang@example.com")
    assert wang.birth_date == date(1988, 5, 17)
    assert wang.owner is None  # a system import names no RM
    company = SourceRecord.objects.get(external_id="CB-2").customer
    assert company.kind == Customer.Kind.BUSINESS
    assert _history_count() == 2


@pytest.mark.django_db
def test_customer_reimport_is_a_no_op_and_a_changed_row_updates_with_history():
    content = csv_bytes([HEADER, *ROWS[:2]])
    import_now(content, kind=CUSTOMERS)
    before = list(Customer.objects.order_by("pk").values())
    history = _history_count()

    again = import_now(content, kind=CUSTOMERS)

    assert (again.rows_created, again.rows_updated, again.rows_unchanged) == (0, 0, 2)
    assert list(Customer.objects.order_by("pk").values()) == before
    assert _history_count() == history

    changed = [["CB-1", "王晓明", "", "", "", "", ""], ROWS[1]]
    job = import_now(csv_bytes([HEADER, *changed]), kind=CUSTOMERS)

    assert (job.rows_updated, job.rows_unchanged) == (1, 1)
    wang = SourceRecord.objects.get(external_id="CB-1").customer
    assert wang.name == "王晓明"
    assert wang.phone == "+8613800138000"  # a blank cell erases nothing
    assert _history_count() == history + 1
    latest = wang.history.latest()
    assert (latest.history_type, latest.name) == ("~", "王晓明")
    assert latest.history_change_reason.startswith(f"import {job.pk}")
    assert latest.prev_record.name == "王小明"


@pytest.mark.django_db
def test_an_rms_import_makes_the_rm_the_owner_and_cannot_touch_others_customers(rm, other_rm, team):
    from django.contrib.auth.models import Permission

    rm.user_permissions.add(Permission.objects.get(codename="run_import"))
    theirs = SourceRecordFactory(external_id="CB-9", customer=CustomerFactory(owner=other_rm))
    rows = [["CB-1", "王小明", "", "", "", "", ""], ["CB-9", "别人的客户", "", "", "", "", ""]]

    job = import_now(csv_bytes([HEADER, *rows]), kind=CUSTOMERS, actor=rm)

    mine = SourceRecord.objects.get(external_id="CB-1").customer
    assert (mine.owner, mine.team) == (rm, team)
    assert mine.history.get().history_user == rm
    assert refused(job) == [
        (3, "客户编号", "This customer belongs to another relationship manager.")
    ]
    theirs.customer.refresh_from_db()
    assert theirs.customer.name != "别人的客户"


@pytest.mark.django_db
def test_a_column_can_name_the_rm_of_new_customers(rm, team):
    rows = [
        ["客户编号", "姓名", "客户经理"],
        ["CB-1", "王小明", rm.username],
        ["CB-2", "李雷", "nobody"],
    ]
    job = import_now(csv_bytes(rows), kind=CUSTOMERS)
    customer = SourceRecord.objects.get(external_id="CB-1").customer
    assert (customer.owner, customer.team) == (rm, team)
    assert refused(job) == [(3, "客户经理", "No active user has this user name.")]


@pytest.mark.django_db
def test_header_mapping_of_a_source_is_used():
    from crm.models import ColumnMapping

    ColumnMapping.objects.create(
        source=Source.MARKETING, kind=CUSTOMERS, header="会员号", field="external_id"
    )
    rows = [["会员号", "会员姓名", "备注"], ["M-1", "韩梅梅", "VIP"]]
    ColumnMapping.objects.create(
        source=Source.MARKETING, kind=CUSTOMERS, header="会员姓名", field="name"
    )
    job = import_now(xlsx_bytes(rows), kind=CUSTOMERS, name="members.xlsx", source=Source.MARKETING)
    assert job.rows_created == 1
    assert "Columns not imported: 备注." in job.message
    assert (
        SourceRecord.objects.get(source=Source.MARKETING, external_id="M-1").customer.name
        == "韩梅梅"
    )


@pytest.mark.django_db
def test_a_file_without_the_required_columns_fails_with_a_message():
    job = import_now(csv_bytes([["姓名"], ["王小明"]]), kind=CUSTOMERS)
    assert job.status == ImportJob.Status.FAILED
    assert job.message == "No header row names the required columns: customer id, name."
