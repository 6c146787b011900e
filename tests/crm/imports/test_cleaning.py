"""Cells as Chinese exports write them, to values; a bad cell's reason is what the user reads."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from crm.imports import cleaning


@pytest.mark.parametrize(
    ("cell", "amount"),
    [
        ("¥1,234.50", Decimal("1234.50")),
        ("1234.5", Decimal("1234.50")),
        ("RMB 1,234", Decimal("1234.00")),
        ("￥88", Decimal("88.00")),
        ("1,234.50元", Decimal("1234.50")),
        ("12.300", Decimal("12.30")),
        (1234.5, Decimal("1234.50")),
        (0.1 + 0.2, Decimal("0.30")),
        (99, Decimal("99.00")),
    ],
)
def test_amounts(cell, amount):
    assert cleaning.clean_amount(cell) == amount


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("-5", "negative"),
        ("(5.00)", "negative"),
        ("1.234", "decimal places"),
        ("1234567890123", "digits"),
        ("abc", "Not an amount"),
        ("=SUM(A1:A3)", "formula"),
        (True, "Not an amount"),
    ],
)
def test_bad_amounts_say_why(cell, reason):
    with pytest.raises(ValueError, match=reason):
        cleaning.clean_amount(cell)


def test_zero_is_refused_for_transactions_only():
    assert cleaning.clean_amount("0") == Decimal("0.00")
    with pytest.raises(ValueError, match="more than zero"):
        cleaning.clean_positive_amount("0.00")


@pytest.mark.parametrize(
    "cell",
    [
        "2025/3/7",
        "2025-03-07",
        "2025年3月7日",
        "20250307",
        "2025.3.7",
        "2025-03-07 00:00:00",
        datetime(2025, 3, 7, 0, 0),  # noqa: DTZ001 (Excel cells have no zone)
        date(2025, 3, 7),
        45723,
    ],
)
def test_dates(cell):
    assert cleaning.clean_date(cell) == date(2025, 3, 7)


@pytest.mark.parametrize("cell", ["2025-02-30", "7/3/2025", "yesterday", "2025-03-07 14:03"])
def test_bad_dates(cell):
    with pytest.raises(ValueError):  # noqa: PT011 (each has its own message)
        cleaning.clean_date(cell)


@pytest.mark.parametrize(
    ("cell", "utc"),
    [
        ("2025-03-07 14:03", datetime(2025, 3, 7, 6, 3, tzinfo=UTC)),
        ("2025/3/7 14:03:05", datetime(2025, 3, 7, 6, 3, 5, tzinfo=UTC)),
        ("2025-03-07T14:03:05+08:00", datetime(2025, 3, 7, 6, 3, 5, tzinfo=UTC)),
        ("2025-03-07T06:03:05Z", datetime(2025, 3, 7, 6, 3, 5, tzinfo=UTC)),
        ("2025-03-07 14:03:05.250", datetime(2025, 3, 7, 6, 3, 5, 250000, tzinfo=UTC)),
        ("2025年3月7日 14:03", datetime(2025, 3, 7, 6, 3, tzinfo=UTC)),
        ("2025-03-07", datetime(2025, 3, 6, 16, 0, tzinfo=UTC)),
        (datetime(2025, 3, 7, 14, 3), datetime(2025, 3, 7, 6, 3, tzinfo=UTC)),  # noqa: DTZ001
    ],
)
def test_datetimes_without_offset_are_shanghai_time_stored_as_utc(cell, utc):
    assert cleaning.clean_datetime(cell) == utc


@pytest.mark.parametrize("cell", ["2025-03-07 25:00", "2025-13-01 10:00", "soon"])
def test_bad_datetimes(cell):
    with pytest.raises(ValueError):  # noqa: PT011
        cleaning.clean_datetime(cell)


@pytest.mark.parametrize("cell", ["+86 138-0013-8000", "13800138000", 13800138000, "138 0013 8000"])
def test_mobiles_are_e164(cell):
    assert cleaning.clean_mobile(cell) == "+8613800138000"


def test_bad_mobile():
    with pytest.raises(ValueError, match="phone"):
        cleaning.clean_mobile("12345")


def test_currency_must_be_one_the_crm_accepts(settings):
    settings.CRM_CURRENCIES = ["CNY", "USD"]
    assert cleaning.clean_currency("usd") == "USD"
    assert cleaning.clean_currency("人民币") == "CNY"
    with pytest.raises(ValueError, match="currency"):
        cleaning.clean_currency("XBT")


@pytest.mark.parametrize("cell", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)"])
def test_text_that_a_spreadsheet_would_run_is_refused(cell):
    with pytest.raises(ValueError, match="formula"):
        cleaning.clean_text(cell)


def test_text_keeps_chinese_and_refuses_too_long():
    assert cleaning.clean_text(" 星巴克（陆家嘴店） ") == "星巴克（陆家嘴店）"
    with pytest.raises(ValueError, match="Longer"):
        cleaning.clean_text("x" * 201)


def test_codes_from_xlsx_numbers_have_no_decimal_point():
    assert cleaning.clean_code(1001.0) == "1001"
    assert cleaning.clean_code(" C-1 ") == "C-1"
