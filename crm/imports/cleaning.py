"""One cell to one value. Each cleaner raises ValueError whose message is the reason the user
reads in the report of refused rows, so every message is translatable.

Cells come as text from a CSV, or as text, numbers and datetimes from an XLSX. These run once
per cell of files with a million rows: the common shapes take a fast path.
"""

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from datetime import timezone as fixed_offset
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.core.validators import validate_email
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from crm.selectors import phone_normalize
from crm.spreadsheets import looks_like_formula

CENT = Decimal("0.01")
MAX_INTEGER_DIGITS = 12  # DecimalField(max_digits=14, decimal_places=2)

_SIMPLE_AMOUNT = re.compile(r"\d{1,15}(?:\.\d{1,15})?")
_AMOUNT_NOISE = re.compile(r"[¥￥,，\s]|RMB|CNY|元")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TIME = re.compile(r"(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.(\d{1,6}))?)?")
_PLAIN_DATETIME = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?")
_OFFSET = re.compile(r"(Z|[+-]\d{2}(?::?\d{2})?)$")
_EXCEL_EPOCH = datetime(1899, 12, 30)  # noqa: DTZ001 (Excel's serial dates have no zone)

_CURRENCY_NAMES = {
    "人民币": "CNY",
    "RMB": "CNY",
    "元": "CNY",
    "¥": "CNY",
    "港币": "HKD",
    "港元": "HKD",
    "美元": "USD",
    "欧元": "EUR",
    "日元": "JPY",
}
_TRUE = {"是", "y", "yes", "true", "1", "学生", "√", "✓"}
_FALSE = {"否", "n", "no", "false", "0", "非学生", "×", ""}


@cache
def _settings() -> tuple[frozenset[str], str, ZoneInfo]:
    """The settings each cell needs, read once: Django's settings proxy costs microseconds a
    look-up, and a file has millions of cells."""
    return (
        frozenset(settings.CRM_CURRENCIES),
        settings.CRM_DEFAULT_CURRENCY,
        ZoneInfo(settings.TIME_ZONE),
    )


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("CRM_CURRENCIES", "CRM_DEFAULT_CURRENCY", "TIME_ZONE"):
        _settings.cache_clear()
        _utc_offset.cache_clear()


def default_currency() -> str:
    return _settings()[1]


def text_of(value: Any) -> str:
    """A cell as text: numbers without a spurious '.0', datetimes in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value).strip()


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_code(value: Any, *, max_length: int = 100) -> str:
    """An id in a source system: text, no surrounding spaces, a number without '.0'."""
    text = value.strip() if type(value) is str else text_of(value)
    if len(text) > max_length:
        raise ValueError(_("Longer than %(max)s characters.") % {"max": max_length})
    if not text.isprintable():
        raise ValueError(_("Contains control characters (tab, line break...)."))
    if text.startswith("="):
        raise ValueError(_("A formula, not a value: save the sheet with values only."))
    return text


def clean_text(value: Any, *, max_length: int = 200) -> str:
    """Free text (a name, a merchant). A cell a spreadsheet would run as a formula is refused:
    it must never be stored and later exported as one."""
    text = value.strip() if type(value) is str else text_of(value)
    if looks_like_formula(text):
        raise ValueError(_("Starts like a spreadsheet formula (= + - @): not imported."))
    if len(text) > max_length:
        raise ValueError(_("Longer than %(max)s characters.") % {"max": max_length})
    return text


def clean_amount(value: Any, *, allow_zero: bool = True) -> Decimal:
    """`¥1,234.50`, `1234.5`, `RMB 1,234`, an XLSX number -> Decimal with 2 places."""
    if isinstance(value, bool):
        raise ValueError(_("Not an amount."))
    if isinstance(value, int | float):
        amount = _amount_of_number(value)
    else:
        text = value.strip() if isinstance(value, str) else text_of(value)
        if not _SIMPLE_AMOUNT.fullmatch(text):
            text = _amount_text(text)
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("Not an amount.")) from None
    return _amount_check(amount, allow_zero=allow_zero)


def _amount_text(text: str) -> str:
    if text.startswith("="):
        raise ValueError(_("A formula, not a value: save the sheet with values only."))
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = _AMOUNT_NOISE.sub("", text.upper())
    if text.startswith("-") or (text.startswith("(") and text.endswith(")")):
        raise ValueError(_("The amount is negative."))
    if not _SIMPLE_AMOUNT.fullmatch(text.lstrip("+")):
        raise ValueError(_("Not an amount."))
    return text.lstrip("+")


def _amount_of_number(value: int | float) -> Decimal:
    if isinstance(value, int):
        return Decimal(value)
    if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
        raise ValueError(_("Not an amount."))
    exact = Decimal(repr(value))
    # Excel keeps 15 digits: 0.1 + 0.2 shows as 0.3 but is stored as 0.30000000000000004.
    rounded = exact.quantize(CENT)
    return rounded if abs(exact - rounded) < Decimal("0.000001") else exact


def _amount_check(amount: Decimal, *, allow_zero: bool) -> Decimal:
    if amount < 0:
        raise ValueError(_("The amount is negative."))
    if amount == 0 and not allow_zero:
        raise ValueError(_("The amount must be more than zero."))
    rounded = amount.quantize(CENT)
    if rounded != amount:
        raise ValueError(_("More than 2 decimal places."))
    if rounded.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(
            _("More than %(digits)s digits before the decimal point.")
            % {"digits": MAX_INTEGER_DIGITS}
        )
    return rounded


def clean_positive_amount(value: Any) -> Decimal:
    return clean_amount(value, allow_zero=False)


def clean_date(value: Any) -> date:
    """`2025/3/7`, `2025-03-07`, `2025年3月7日`, `20250307`, an Excel date cell."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _date_of_number(value)
    text = text_of(value)
    match = _DATE.match(text)
    if match and _only_midnight_after(text[match.end() :]):
        return _date(*match.groups())
    match = _COMPACT_DATE.fullmatch(text)
    if match:
        return _date(*match.groups())
    raise ValueError(_("Not a date (write it like 2025-03-07)."))


def _only_midnight_after(rest: str) -> bool:
    """A date exported with a zero time (`2025-03-07 00:00:00`) is still a date."""
    rest = rest.strip()
    return not rest or rest.strip("0:. T") == ""


def _date_of_number(value: int | float) -> date:
    number = int(value)
    if number != value:
        raise ValueError(_("Not a date (write it like 2025-03-07)."))
    if 19000101 <= number <= 21001231:
        return _date(*_COMPACT_DATE.fullmatch(str(number)).groups())  # type: ignore[union-attr]
    if 1 <= number <= 73050:  # an Excel serial date up to 2099
        return (_EXCEL_EPOCH + timedelta(days=number)).date()
    raise ValueError(_("Not a date (write it like 2025-03-07)."))


def _date(year: str, month: str, day: str) -> date:
    try:
        result = date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(_("No such date.")) from None
    if not 1900 <= result.year <= 2100:
        raise ValueError(_("No such date."))
    return result


def clean_datetime(value: Any) -> datetime:
    """`2025-03-07 14:03`, `2025/3/7 14:03:05`, ISO with an offset, an Excel date cell.

    Without an offset the time is local (settings.TIME_ZONE, Asia/Shanghai); the result is UTC.
    """
    if type(value) is str:
        match = _PLAIN_DATETIME.fullmatch(value)
        if match:
            try:
                return _local_to_utc(*map(int, match.groups(default="0")))
            except ValueError:
                pass  # the slow path says exactly what is wrong
    if isinstance(value, datetime):
        return _aware_utc(value)
    if isinstance(value, date | int | float) and not isinstance(value, bool):
        return _aware_utc(datetime.combine(clean_date(value), time()))
    return _datetime_of_text(text_of(value))


def _local_to_utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    """The common case, fast: local wall time to UTC with the zone's offset for that hour."""
    if not 1900 <= year <= 2100:
        raise ValueError(year)
    moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return moment - _utc_offset(year, month, day, hour)


@cache
def _utc_offset(year: int, month: int, day: int, hour: int) -> timedelta:
    local = datetime(year, month, day, hour, 30)  # noqa: DTZ001 (the zone is set just below)
    return local.replace(tzinfo=_settings()[2]).utcoffset() or timedelta(0)


def _datetime_of_text(text: str) -> datetime:
    match = _DATE.match(text)
    if not match:
        raise ValueError(_("Not a date and time (write it like 2025-03-07 14:03)."))
    day = _date(*match.groups())
    rest = text[match.end() :].lstrip(" T")
    offset = _OFFSET.search(rest)
    if offset:
        rest = rest[: offset.start()].rstrip()
    clock = time()
    if rest:
        time_match = _TIME.fullmatch(rest)
        if not time_match:
            raise ValueError(_("Not a date and time (write it like 2025-03-07 14:03)."))
        clock = _time(*time_match.groups())
    moment = datetime.combine(day, clock)  # noqa: DTZ001 (the zone is set just below)
    if offset:
        return moment.replace(tzinfo=_offset_zone(offset.group(1))).astimezone(UTC)
    return _aware_utc(moment)


def _time(hour: str, minute: str, second: str | None, fraction: str | None) -> time:
    try:
        return time(int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0")))
    except ValueError:
        raise ValueError(_("No such time of day.")) from None


def _offset_zone(text: str) -> tzinfo:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return fixed_offset(sign * timedelta(hours=hours, minutes=minutes))


def _aware_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_settings()[2])
    return moment.astimezone(UTC)


def clean_mobile(value: Any) -> str:
    """`+86 138-0013-8000`, `13800138000`, an XLSX number -> E.164 (`+8613800138000`)."""
    phone = phone_normalize(text_of(value))
    if phone is None:
        raise ValueError(_("Not a valid phone number."))
    return phone


def clean_email(value: Any) -> str:
    text = text_of(value).lower()
    try:
        validate_email(text)
    except ValidationError:
        raise ValueError(_("Not a valid e-mail address.")) from None
    return text


def clean_currency(value: Any) -> str:
    """An ISO code the CRM accepts (settings.CRM_CURRENCIES), or a Chinese name for one."""
    text = text_of(value)
    code = _CURRENCY_NAMES.get(text, text.upper())
    if code not in _settings()[0]:
        raise ValueError(
            _("Unknown currency; accepted: %(codes)s.")
            % {"codes": ", ".join(settings.CRM_CURRENCIES)}
        )
    return code


def clean_boolean(value: Any) -> bool:
    text = text_of(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(_("Not yes or no (是/否)."))


def choice_cleaner(values: dict[str, str]):
    """A cleaner for a choice field: `values` maps every accepted spelling (lower-case) to the
    stored value."""

    def clean_choice(value: Any) -> str:
        text = value.strip() if type(value) is str else text_of(value)
        found = values.get(text) or values.get(text.lower())
        if found is None:
            accepted = sorted({key for key in values if not key.isascii()})[:12]
            raise ValueError(
                _("Unknown value; accepted values include: %(values)s.")
                % {"values": ", ".join(accepted or sorted(values)[:12])}
            )
        return found

    return clean_choice
