import io

import pytest
from django.core.management import CommandError, call_command

from crm.models import ImportJob, Source, Transaction
from tests.crm.imports.conftest import csv_bytes
from tests.factories import SourceRecordFactory


@pytest.mark.django_db
def test_import_file_command_imports_a_local_file_and_prints_the_summary(write_file):
    SourceRecordFactory(source=Source.POS, external_id="P-1")
    rows = [["流水号", "客户编号", "金额", "交易时间"], ["T1", "P-1", "10", "2025-03-07 10:00"]]
    path = write_file("pos.csv", csv_bytes(rows, encoding="gbk"))
    out = io.StringIO()

    call_command("import_file", str(path), source="pos", kind="transactions", stdout=out)

    assert "status=done encoding=gb18030 rows_read=1 created=1" in out.getvalue()
    assert Transaction.objects.get().external_id == "T1"
    assert ImportJob.objects.get().created_by is None


@pytest.mark.django_db
def test_import_file_command_refuses_a_user_who_may_not_import(write_file, rm):
    path = write_file("pos.csv", csv_bytes([["a"], ["b"]]))
    with pytest.raises(CommandError, match="may not import"):
        call_command("import_file", str(path), source="pos", kind="transactions", user=rm.username)
