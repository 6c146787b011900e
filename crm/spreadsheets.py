"""Cells a spreadsheet would run as a formula (CSV injection, OWASP ASVS 1.2.10).

A cell that starts with =, +, -, @, a tab, a carriage return or a line feed (or the full-width
＝ ＋ － ＠ a Chinese input method types), even after spaces, runs in Excel or WPS. Exports write
such cells with a leading apostrophe, which spreadsheets show as text.
"""

FORMULA_STARTS = frozenset("=+-@\t\r\n＝＋－＠")


def looks_like_formula(text: str) -> bool:
    return bool(text) and (text[0] in FORMULA_STARTS or text.lstrip(" ")[:1] in FORMULA_STARTS)


def spreadsheet_safe(value: object) -> object:
    """The cell as text a spreadsheet shows rather than runs; other values unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and looks_like_formula(value):
        return "'" + value
    return value
