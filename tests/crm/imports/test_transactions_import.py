"""Transactions from real-looking files: each refused row reported, nothing else lost, and a
second import of the same file a no-op."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import ImportJob, Source, Transaction
from crm.services.imports import import_job_create, import_job_preview, import_job_run
from tests.crm.imports.conftest import csv_bytes, import_now, refused, upload, xlsx_bytes
from tests.factories import SourceRecordFactory, TransactionFactory

TRANSACTIONS = ImportJob.Kind.TRANSACTIONS
HEADER = [
    "交易编号",
    "客户编号",
    "交易金额",
    "币种",
    "消费类别",
    "渠道",
    "商户名称",
    "交易时间",
    "交易类型",
    "原交易编号",
]


@pytest.fixture
def customers(db):
    return {
        external_id: SourceRecordFactory(source=Source.SHOP, external_id=external_id).customer
        for external_id in ("SH-001", "SH-002")
    }


def _file(rows, *, encoding="gbk"):
    return csv_bytes([HEADER, *rows], encoding=encoding)


GOOD = [
    [
        "T1",
        "SH-001",
        "￥1,234.50",
        "人民币",
        "餐饮",
        "门店",
        "海底捞（陆家嘴店）",
        "2025/3/7 14:03",
        "消费",
        "",
    ],
    ["T2", "SH-002", "88", "", "母婴", "线上", "孩子王", "2025-03-08 09:30:00", "", ""],
    [
        "T3",
        "SH-001",
        "234.50",
        "CNY",
        "餐饮",
        "门店",
        "海底捞（陆家嘴店）",
        "2025-03-09 10:00",
        "退款",
        "T1",
    ],
]
BAD = [
    ["B1", "SH-001", "100", "CNY", "超市", "门店", "盒马", "2025-02-30 10:00", "消费", ""],
    ["B2", "SH-001", "-100", "CNY", "超市", "门店", "盒马", "2025-03-01 10:00", "消费", ""],
    ["B3", "SH-001", "100", "XBT", "超市", "门店", "盒马", "2025-03-01 10:00", "消费", ""],
    ["B4", "SH-001", "100", "CNY", "超市", "门店", "盒马", "2025-03-01 10:00", "退款", "NOPE"],
    ["T2", "SH-002", "88", "", "母婴", "线上", "孩子王", "2025-03-08 09:30:00", "", ""],
    [
        "B6",
        "SH-001",
        "100",
        "CNY",
        "超市",
        "门店",
        '=HYPERLINK("http://evil")',
        "2025-03-01 10:00",
        "消费",
        "",
    ],
    ["B7", "SH-404", "100", "CNY", "超市", "门店", "盒马", "2025-03-01 10:00", "消费", ""],
]


@pytest.mark.django_db
def test_gbk_file_with_chinese_headers_imports_and_reports_each_refused_row(customers):
    job = import_now(_file(GOOD + BAD), kind=TRANSACTIONS, source=Source.SHOP)

    assert job.status == ImportJob.Status.DONE
    assert job.encoding == "gb18030"
    assert (job.rows_read, job.rows_created, job.rows_refused) == (10, 3, 7)
    assert refused(job) == [
        (5, "交易时间", "No such date."),
        (6, "交易金额", "The amount is negative."),
        (7, "币种", "Unknown currency; accepted: CNY, HKD, USD, EUR, JPY."),
        (8, "原交易编号", "No transaction NOPE from this source is stored or earlier in the file."),
        (9, "交易编号", "Row 3 has the same id."),
        (10, "商户名称", "Starts like a spreadsheet formula (= + - @): not imported."),
        (11, "客户编号", "No customer has this id in this source."),
    ]
    assert job.row_errors.get(row_number=6).value == "-100"
    stored = {t.external_id: t for t in Transaction.objects.select_related("refund_of")}
    assert set(stored) == {"T1", "T2", "T3"}
    assert stored["T1"].amount == Decimal("1234.50")
    assert stored["T1"].category == Transaction.Category.DINING
    assert stored["T1"].channel == Transaction.Channel.STORE
    assert stored["T1"].merchant == "海底捞（陆家嘴店）"
    assert stored["T1"].occurred_at.isoformat() == "2025-03-07T06:03:00+00:00"
    assert stored["T1"].customer == customers["SH-001"]
    assert stored["T2"].kind == Transaction.Kind.PURCHASE
    assert stored["T2"].currency == "CNY"
    assert stored["T3"].kind == Transaction.Kind.REFUND
    assert stored["T3"].refund_of == stored["T1"]


@pytest.mark.django_db
def test_reimport_of_the_same_file_changes_nothing(customers):
    content = _file(GOOD + BAD)
    first = import_now(content, kind=TRANSACTIONS, source=Source.SHOP)
    before = list(Transaction.objects.order_by("pk").values())

    second = import_now(content, kind=TRANSACTIONS, source=Source.SHOP)

    assert list(Transaction.objects.order_by("pk").values()) == before
    assert (second.rows_created, second.rows_unchanged, second.rows_refused) == (0, 3, 7)
    assert second.rows_read == first.rows_read
    assert second.message == ""


@pytest.mark.django_db
def test_a_stored_transaction_is_never_changed_and_the_report_says_so(customers):
    import_now(_file(GOOD[:1]), kind=TRANSACTIONS, source=Source.SHOP)
    changed = [[*GOOD[0][:2], "999", *GOOD[0][3:]]]

    job = import_now(_file(changed), kind=TRANSACTIONS, source=Source.SHOP)

    assert Transaction.objects.get().amount == Decimal("1234.50")
    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (0, 0, 1)
    assert "1 rows name transactions imported before with other data" in job.message


@pytest.mark.django_db
def test_refund_of_a_stored_transaction_follows_the_api_rules(customers):
    original = TransactionFactory(
        customer=customers["SH-001"], source=Source.SHOP, external_id="OLD", amount=Decimal("50")
    )
    rows = [
        ["R1", "SH-001", "20", "CNY", "", "", "", "2025-03-09 10:00", "退款", "OLD"],
        ["R2", "SH-001", "80", "CNY", "", "", "", "2025-03-09 10:00", "退款", "OLD"],
        ["R3", "SH-002", "10", "CNY", "", "", "", "2025-03-09 10:00", "退款", "OLD"],
        ["R4", "SH-001", "10", "CNY", "", "", "", "2025-03-09 10:00", "消费", "OLD"],
    ]
    job = import_now(_file(rows), kind=TRANSACTIONS, source=Source.SHOP)

    assert Transaction.objects.get(external_id="R1").refund_of == original
    assert [reason for _row, _column, reason in refused(job)] == [
        "A refund cannot exceed its original's amount, 50.00.",
        "The original belongs to another customer.",
        "Only a refund names an original transaction.",
    ]


@pytest.mark.django_db
def test_xlsx_with_merged_title_rows_and_blank_lines(customers):
    rows = [
        ["流水号", "客户编号", "金额", "交易时间", "类别"],
        ["X1", "SH-001", 1234.5, "2025/3/7 14:03", "超市"],
        [None, None, None, None, None],
        ["X2", "SH-002", "¥88.00", "2025-03-08 09:30", "商超"],
        ["X3", "SH-002", "1.005", "2025-03-08 09:30", "商超"],
    ]
    content = xlsx_bytes(rows, title="2025年3月交易明细")

    job = import_now(content, kind=TRANSACTIONS, name="交易.xlsx", source=Source.SHOP)

    assert (job.status, job.rows_read, job.rows_created) == ("done", 3, 2)
    assert refused(job) == [(7, "金额", "More than 2 decimal places.")]
    assert set(Transaction.objects.values_list("category", flat=True)) == {"supermarket"}


@pytest.mark.django_db
def test_preview_classifies_without_writing(customers):
    import_now(_file(GOOD[:1]), kind=TRANSACTIONS, source=Source.SHOP)
    job = import_job_create(
        actor=None,
        source=Source.SHOP,
        kind=TRANSACTIONS,
        uploaded_file=upload(_file(GOOD + BAD), "t.csv"),
    )

    preview = import_job_preview(job_id=job.pk)

    assert (preview.totals.created, preview.totals.unchanged, preview.totals.refused) == (2, 1, 7)
    assert [refusal.row_number for refusal in preview.refusals] == [5, 6, 7, 8, 9, 10, 11]
    assert Transaction.objects.count() == 1
    job.refresh_from_db()
    assert (job.status, job.rows_read, job.row_errors.count()) == ("pending", 0, 0)


@pytest.mark.django_db
def test_preview_of_a_big_file_reads_only_its_first_rows(customers, settings):
    settings.CRM_IMPORT_PREVIEW_MAX_ROWS = 2
    job = import_job_create(
        actor=None,
        source=Source.SHOP,
        kind=TRANSACTIONS,
        uploaded_file=upload(_file(GOOD), "t.csv"),
    )
    preview = import_job_preview(job_id=job.pk)
    assert preview.is_truncated
    assert preview.totals.rows_read == 2


@pytest.mark.django_db
def test_running_a_job_twice_imports_once(customers):
    job = import_job_create(
        actor=None,
        source=Source.SHOP,
        kind=TRANSACTIONS,
        uploaded_file=upload(_file(GOOD + BAD), "t.csv"),
    )
    first = import_job_run(job_id=job.pk)
    second = import_job_run(job_id=job.pk)

    assert first.status == second.status == ImportJob.Status.DONE
    assert (second.rows_read, second.rows_created) == (10, 3)
    assert job.row_errors.count() == 7
    assert Transaction.objects.count() == 3


@pytest.mark.django_db
def test_a_failed_run_resumes_after_its_last_committed_chunk(customers, settings, monkeypatch):
    settings.CRM_IMPORT_CHUNK_ROWS = 2
    job = import_job_create(
        actor=None,
        source=Source.SHOP,
        kind=TRANSACTIONS,
        uploaded_file=upload(_file(GOOD + BAD), "t.csv"),
    )
    from crm.imports.kinds import transactions

    calls = {"count": 0}
    real_write = transactions.TransactionImport.write

    def write_then_fail(self, plan):
        calls["count"] += 1
        if calls["count"] == 3:
            raise RuntimeError("the database went away")
        real_write(self, plan)

    monkeypatch.setattr(transactions.TransactionImport, "write", write_then_fail)
    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows_read) == (ImportJob.Status.FAILED, 4)

    monkeypatch.setattr(transactions.TransactionImport, "write", real_write)
    job = import_job_run(job_id=job.pk)

    assert (job.status, job.rows_read, job.rows_created, job.rows_refused) == ("done", 10, 3, 7)
    assert job.row_errors.count() == 7
    assert Transaction.objects.count() == 3


def _import_queries(customers, count: int, first: int) -> int:
    rows = [
        [
            f"Q{n}",
            "SH-001" if n % 2 else "SH-002",
            "10.00",
            "CNY",
            "餐饮",
            "门店",
            "店",
            "2025-03-07 10:00",
            "消费",
            "",
        ]
        for n in range(first, first + count)
    ]
    job = import_job_create(
        actor=None,
        source=Source.SHOP,
        kind=TRANSACTIONS,
        uploaded_file=upload(_file(rows), "q.csv"),
    )
    with CaptureQueriesContext(connection) as captured:
        job = import_job_run(job_id=job.pk)
    assert job.rows_created == count
    return len(captured)


@pytest.mark.django_db
def test_query_count_does_not_grow_with_rows(customers, settings):
    settings.CRM_IMPORT_CHUNK_ROWS = 1000
    # Queries: claim, job, its user, encoding, header mappings; per chunk the customers, the
    # stored transactions, the staging write (SQLite: one executemany), refused rows (none:
    # no query), progress; then the finish and the refresh.
    assert _import_queries(customers, 50, 0) == _import_queries(customers, 500, 1000)
