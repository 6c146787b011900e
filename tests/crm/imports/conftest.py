"""Files written by the tests, as Chinese Excel and source systems write them."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from crm.models import ImportJob, Source
from crm.services.imports import import_job_create, import_job_run


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def csv_bytes(rows: list[list[object]], *, encoding: str = "utf-8") -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], *, title: str | None = None) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    if title:
        # A merged title row, then a merged group header, above the real header.
        width = max(len(row) for row in rows)
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        sheet.append(["客户信息", None, "交易信息"])
        sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=2)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def import_now(
    content: bytes,
    *,
    kind: str,
    name: str = "file.csv",
    source: str = Source.CORE_BANKING,
    actor=None,
) -> ImportJob:
    job = import_job_create(
        actor=actor, source=source, kind=kind, uploaded_file=upload(content, name)
    )
    return import_job_run(job_id=job.pk)


def refused(job: ImportJob) -> list[tuple[int, str, str]]:
    return list(
        job.row_errors.order_by("row_number", "id").values_list("row_number", "column", "reason")
    )


@pytest.fixture
def write_file(tmp_path):
    def write(name: str, content: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(content)
        return path

    return write
