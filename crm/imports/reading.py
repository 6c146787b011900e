"""Rows out of a CSV or XLSX file, streamed, after the checks that come before any parsing.

A file's type is what its bytes say, never its name: an XLSX is a zip holding the OOXML
spreadsheet content type; a CSV is text in UTF-8 (with or without BOM) or GB18030 (a superset
of GBK, what Chinese Excel saves). A name that says otherwise is refused.
"""

import codecs
import csv
import io
import zipfile
from collections.abc import Generator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

CSV, XLSX = "csv", "xlsx"
UTF8, UTF8_BOM, GB18030 = "utf-8", "utf-8-sig", "gb18030"
_SPREADSHEET_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls
_BLOCK = 1024 * 1024
_SAMPLE = 64 * 1024

Cell = Any  # str from a CSV; str, int, float, datetime or None from an XLSX
Row = tuple[Cell, ...]


class FileRefused(ValidationError):
    """The file cannot be imported at all: too big, not a spreadsheet, unreadable text."""


@dataclass
class TableFile:
    """An opened file's rows: `rows()` yields (row number as a spreadsheet shows it, cells)."""

    file_type: str
    encoding: str
    _file: IO[bytes]

    def rows(self) -> Generator[tuple[int, Row]]:
        if self.file_type == XLSX:
            return _xlsx_rows(self._file)
        return _csv_rows(self._file, self.encoding)


def file_check(file: IO[bytes], *, name: str, size: int) -> str:
    """The file's type (CSV or XLSX) from its content; FileRefused before anything is parsed."""
    if size > settings.CRM_IMPORT_MAX_BYTES:
        raise FileRefused(
            _("The file is larger than %(limit)s.")
            % {"limit": filesizeformat(settings.CRM_IMPORT_MAX_BYTES)},
            code="too_large",
        )
    if size == 0:
        raise FileRefused(_("The file is empty."), code="empty")
    file.seek(0)
    head = file.read(_SAMPLE)
    file.seek(0)
    file_type = _type_of(file, head)
    suffix = name.lower().rsplit(".", 1)[-1] if "." in name else ""
    if suffix in ("xlsx", "xlsm") and file_type != XLSX or suffix == "csv" and file_type != CSV:
        raise FileRefused(
            _("The file's content does not match its name: it is not a %(suffix)s file.")
            % {"suffix": suffix.upper()},
            code="type_mismatch",
        )
    return file_type


def file_open(file: IO[bytes], *, file_type: str) -> TableFile:
    """Ready to stream: a CSV's encoding is found first (one quick pass over the bytes)."""
    encoding = _csv_encoding(file) if file_type == CSV else ""
    return TableFile(file_type=file_type, encoding=encoding, _file=file)


def _type_of(file: IO[bytes], head: bytes) -> str:
    if head.startswith(b"PK\x03\x04"):
        _zip_check(file)
        return XLSX
    if head.startswith(_OLE_MAGIC):
        raise FileRefused(
            _("Old Excel files (.xls) cannot be imported: save the file as .xlsx or CSV."),
            code="xls",
        )
    if b"\x00" in head or _sample_encoding(head) is None:
        raise FileRefused(
            _("The file is neither an Excel workbook (.xlsx) nor CSV text."), code="not_a_table"
        )
    return CSV


def _zip_check(file: IO[bytes]) -> None:
    """Entry count and unpacked size from the zip's directory, before anything is unpacked."""
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
            if len(entries) > settings.CRM_IMPORT_MAX_ZIP_ENTRIES:
                raise FileRefused(_("The workbook has too many parts."), code="zip_entries")
            if sum(entry.file_size for entry in entries) > settings.CRM_IMPORT_MAX_UNPACKED_BYTES:
                raise FileRefused(_("The workbook unpacks to too much data."), code="zip_size")
            content_types = archive.read("[Content_Types].xml") if _has_types(entries) else b""
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise FileRefused(_("The workbook is damaged."), code="bad_zip") from error
    finally:
        file.seek(0)
    if _SPREADSHEET_TYPE not in content_types:
        raise FileRefused(_("The file is a zip, but not an Excel workbook."), code="not_xlsx")


def _has_types(entries: list[zipfile.ZipInfo]) -> bool:
    # The content types part is small; a huge one is a bomb, not a workbook.
    return any(e.filename == "[Content_Types].xml" and e.file_size < _BLOCK for e in entries)


def _sample_encoding(head: bytes) -> str | None:
    """The encoding a sample of the file reads in, or None. A multi-byte character cut at the
    sample's end is not an error."""
    for encoding in (UTF8, GB18030):
        try:
            codecs.getincrementaldecoder(encoding)("strict").decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _csv_encoding(file: IO[bytes]) -> str:
    """UTF-8 with BOM, UTF-8 if every byte decodes as UTF-8, else GB18030 if every byte does.

    The whole file is decoded (in blocks, nothing kept) so that a row far down is never
    decoded wrongly; a file that is neither is refused before any row is read.
    """
    file.seek(0)
    has_bom = file.read(3) == codecs.BOM_UTF8
    candidates = (UTF8_BOM,) if has_bom else (UTF8, GB18030)
    for encoding in candidates:
        if _decodes(file, encoding):
            file.seek(0)
            return encoding
    raise FileRefused(
        _("The file's text is neither UTF-8 nor GBK/GB18030: save it as CSV UTF-8."),
        code="encoding",
    )


def _decodes(file: IO[bytes], encoding: str) -> bool:
    file.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        while block := file.read(_BLOCK):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _csv_rows(file: IO[bytes], encoding: str) -> Generator[tuple[int, Row]]:
    file.seek(0)
    text = io.TextIOWrapper(file, encoding=encoding, errors="strict", newline="")
    try:
        sample = text.read(_SAMPLE)
        text.seek(0)
        reader = csv.reader(text, delimiter=_delimiter(sample), strict=False)
        # One record is one spreadsheet row, even when a quoted cell spans several lines.
        for number, cells in enumerate(reader, start=1):
            yield number, tuple(cells)
    except csv.Error as error:
        raise FileRefused(
            _("The CSV cannot be read near line %(line)s.") % {"line": reader.line_num},
            code="csv",
        ) from error
    finally:
        text.detach()  # the caller closes the file


def _delimiter(sample: str) -> str:
    """Comma, tab or semicolon: whichever a line of the sample has most of (a title line above
    the header may have none)."""
    lines = sample.splitlines()[:30]
    best, best_count = ",", 0
    for delimiter in (",", "\t", ";"):
        count = max((line.count(delimiter) for line in lines), default=0)
        if count > best_count:
            best, best_count = delimiter, count
    return best


def _xlsx_rows(file: IO[bytes]) -> Generator[tuple[int, Row]]:
    # openpyxl parses with defusedxml when it is installed (it is a dependency): no XML bombs.
    from openpyxl import load_workbook

    file.seek(0)
    try:
        workbook = load_workbook(file, read_only=True, data_only=False)
    except Exception as error:  # openpyxl raises many kinds on a damaged workbook
        raise FileRefused(_("The workbook cannot be read."), code="bad_xlsx") from error
    try:
        sheet = workbook.worksheets[0]
        # Some tools write a wrong size tag; without it every row is read, as Excel shows it.
        sheet.reset_dimensions()
        yield from enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
    except (ValueError, KeyError, TypeError, zipfile.BadZipFile, OSError) as error:
        # A damaged sheet, or XML that defusedxml refuses (entities: a bomb).
        raise FileRefused(_("The workbook cannot be read."), code="bad_xlsx") from error
    finally:
        workbook.close()
