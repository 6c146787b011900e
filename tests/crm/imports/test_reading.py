"""Files are checked by size and content before anything parses them; rows stream out with
the file's own row numbers."""

import io
import zipfile

import pytest

from crm.imports.reading import (
    CSV,
    GB18030,
    UTF8,
    UTF8_BOM,
    XLSX,
    FileRefused,
    file_check,
    file_open,
)
from tests.crm.imports.conftest import csv_bytes, xlsx_bytes


def _rows(content: bytes, name: str = "file.csv") -> tuple[str, list]:
    file = io.BytesIO(content)
    table = file_open(file, file_type=file_check(file, name=name, size=len(content)))
    return table.encoding, list(table.rows())


def test_gbk_csv_with_chinese_headers_is_read_as_gb18030():
    content = csv_bytes([["客户编号", "姓名"], ["C1", "王小明"]], encoding="gbk")
    encoding, rows = _rows(content)
    assert encoding == GB18030
    assert rows == [(1, ("客户编号", "姓名")), (2, ("C1", "王小明"))]


def test_utf8_with_and_without_bom():
    plain = csv_bytes([["客户编号", "姓名"], ["C1", "李雷"]])
    assert _rows(plain) == (UTF8, [(1, ("客户编号", "姓名")), (2, ("C1", "李雷"))])
    encoding, rows = _rows(b"\xef\xbb\xbf" + plain)
    assert encoding == UTF8_BOM
    assert rows[0] == (1, ("客户编号", "姓名"))  # the BOM is not part of the first header


def test_gbk_text_far_down_a_utf8_looking_file_is_still_decoded_right():
    rows = [["id", "name"]] + [[f"C{n}", "abc"] for n in range(30_000)] + [["C-last", "王小明"]]
    encoding, read = _rows(csv_bytes(rows, encoding="gbk"))
    assert encoding == GB18030
    assert read[-1][1] == ("C-last", "王小明")


def test_row_numbers_count_blank_lines_and_multi_line_cells_like_a_spreadsheet():
    content = b'id,name\r\n\r\nC1,"two\r\nlines"\r\nC2,x\r\n'
    _encoding, rows = _rows(content)
    assert [number for number, _cells in rows] == [1, 2, 3, 4]
    assert rows[3] == (4, ("C2", "x"))


def test_tab_separated_text_is_read():
    _encoding, rows = _rows("id\tname\r\nC1\t王\r\n".encode())
    assert rows[1] == (2, ("C1", "王"))


def test_xlsx_rows_keep_the_sheet_row_numbers_with_a_merged_title_and_blank_rows():
    content = xlsx_bytes(
        [["客户编号", "姓名"], ["C1", "王小明"], [], ["C2", "李雷"]], title="客户清单"
    )
    file = io.BytesIO(content)
    assert file_check(file, name="客户.xlsx", size=len(content)) == XLSX
    rows = list(file_open(file, file_type=XLSX).rows())
    assert rows[0][1][0] == "客户清单"
    assert rows[2] == (3, ("客户编号", "姓名"))
    assert rows[4][0] == 5  # the blank row is there, empty
    assert rows[5] == (6, ("C2", "李雷"))


def test_file_over_the_size_limit_is_refused_before_reading(settings):
    settings.CRM_IMPORT_MAX_BYTES = 100

    class Unreadable(io.BytesIO):
        def read(self, *args):
            raise AssertionError("read before the size check")

    with pytest.raises(FileRefused) as refused:
        file_check(Unreadable(), name="big.csv", size=101)
    assert refused.value.code == "too_large"


def test_text_named_xlsx_is_refused():
    content = csv_bytes([["id", "name"], ["C1", "x"]])
    with pytest.raises(FileRefused) as refused:
        file_check(io.BytesIO(content), name="customers.xlsx", size=len(content))
    assert refused.value.code == "type_mismatch"


def test_a_workbook_is_a_workbook_whatever_its_name_unless_the_name_says_csv():
    content = xlsx_bytes([["id"]])
    assert file_check(io.BytesIO(content), name="export", size=len(content)) == XLSX
    with pytest.raises(FileRefused):
        file_check(io.BytesIO(content), name="export.csv", size=len(content))


def test_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    content = buffer.getvalue()
    with pytest.raises(FileRefused) as refused:
        file_check(io.BytesIO(content), name="x.xlsx", size=len(content))
    assert refused.value.code == "not_xlsx"


def test_zip_bomb_is_refused_from_its_directory(settings):
    settings.CRM_IMPORT_MAX_UNPACKED_BYTES = 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "x")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (2 * 1024 * 1024))
    content = buffer.getvalue()
    assert len(content) < 10_000
    with pytest.raises(FileRefused) as refused:
        file_check(io.BytesIO(content), name="x.xlsx", size=len(content))
    assert refused.value.code == "zip_size"


def test_zip_with_too_many_entries_is_refused(settings):
    settings.CRM_IMPORT_MAX_ZIP_ENTRIES = 10
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(11):
            archive.writestr(f"part{number}.xml", "x")
    content = buffer.getvalue()
    with pytest.raises(FileRefused) as refused:
        file_check(io.BytesIO(content), name="x.xlsx", size=len(content))
    assert refused.value.code == "zip_entries"


def test_old_xls_and_binary_files_are_refused():
    old = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100
    with pytest.raises(FileRefused) as refused:
        file_check(io.BytesIO(old), name="x.xls", size=len(old))
    assert refused.value.code == "xls"
    png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
    with pytest.raises(FileRefused):
        file_check(io.BytesIO(png), name="x.csv", size=len(png))


def test_text_in_neither_utf8_nor_gb18030_is_refused_before_any_row():
    bad = b"C1," + b"\x80\xff" * 10 + b"\r\n"
    with pytest.raises(FileRefused):
        file_check(io.BytesIO(b"id,name\r\n" + bad), name="x.csv", size=100)
    # Past the sample the type check reads, the whole-file pass finds it.
    content = b"id,name\r\n" + b"C0,abc\r\n" * 20_000 + bad
    file = io.BytesIO(content)
    assert file_check(file, name="x.csv", size=len(content)) == CSV
    with pytest.raises(FileRefused) as refused:
        file_open(file, file_type=CSV)
    assert refused.value.code == "encoding"


def test_xml_bomb_in_a_workbook_is_refused_by_defusedxml():
    content = xlsx_bytes([["id", "name"], ["C1", "x"]])
    source = zipfile.ZipFile(io.BytesIO(content))
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for item in source.infolist():
            data = bomb if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            archive.writestr(item, data)
    file = io.BytesIO(buffer.getvalue())
    table = file_open(file, file_type=file_check(file, name="x.xlsx", size=len(buffer.getvalue())))
    with pytest.raises(FileRefused):
        list(table.rows())
