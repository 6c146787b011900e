"""The refused rows of a job as CSV that Chinese Excel opens, and never runs as formulas."""

import csv
import io
from collections.abc import Iterator

from django.utils.translation import gettext

from crm.masking import mask_text
from crm.models import ImportJob
from crm.spreadsheets import spreadsheet_safe


def refused_rows_csv(job: ImportJob, *, show_contact: bool = True) -> Iterator[str]:
    """UTF-8 with a BOM (Excel then reads it as UTF-8), streamed from the database; phones and
    e-mails in the refused values masked unless `show_contact`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[object]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
        return buffer.getvalue()

    yield "\ufeff" + line([gettext("row"), gettext("column"), gettext("value"), gettext("reason")])
    refused = job.row_errors.order_by("row_number", "id").values_list(
        "row_number", "column", "value", "reason"
    )
    for row_number, column, value, reason in refused.iterator(chunk_size=2000):
        yield line([row_number, column, value if show_contact else mask_text(value), reason])
