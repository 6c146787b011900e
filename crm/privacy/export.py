"""The data-subject export: one JSON document of everything held about one customer.

Written as it is read: each registered section is one `.values()` query read in chunks
(`iterator`), and the text goes out in pieces of about `BUFFER_CHARS`, so neither the number
of queries nor the memory grows with the customer's history.

    {"format": "...", "customer_id": 1, "generated_at": "...", "generated_by": "...",
     "contact_masked": false, "sections": {"crm.customer": [{...}], "loyalty.points_entries":
     [...], ...}}
"""

import json
from collections.abc import Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from crm.masking import mask_email, mask_phone, mask_text
from crm.privacy.registry import privacy_handlers

FORMAT = "loyalty-crm.customer-export/1"
CHUNK_ROWS = 2000
BUFFER_CHARS = 64 * 1024


class ExportEncoder(DjangoJSONEncoder):
    """Dates, times, Decimals (as text: no float rounding) and phone numbers (E.164)."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _mask_recipient(value: object) -> str:
    text = str(value or "")
    return mask_email(text) if "@" in text else mask_phone(text)


# Columns holding a phone or an e-mail, masked when the user may not see contacts whole.
CONTACT_COLUMNS = {
    "phone": mask_phone,
    "email": lambda value: mask_email(str(value or "")),
    "contact_phone": mask_phone,
    "contact_email": lambda value: mask_email(str(value or "")),
    "recipient": _mask_recipient,
}


def _dumps(value: Any) -> str:
    return json.dumps(value, cls=ExportEncoder, ensure_ascii=False)


def _masked_value(key: str, value: Any) -> Any:
    if not value:
        return value
    if key in CONTACT_COLUMNS:
        return CONTACT_COLUMNS[key](value)
    if isinstance(value, str):
        return mask_text(value)
    return value


def _masked(row: dict[str, Any]) -> dict[str, Any]:
    """Contact columns masked, and numbers or addresses written into free text too."""
    return {key: _masked_value(key, value) for key, value in row.items()}


def customer_export_pieces(
    *, customer_id: int, header: dict[str, Any], show_contact: bool, counts: dict | None = None
) -> Iterator[str]:
    """The export's text in pieces; `counts` (if given) receives the rows per section."""
    buffer: list[str] = []
    size = 0

    def push(text: str) -> Iterator[str]:
        nonlocal size
        buffer.append(text)
        size += len(text)
        if size >= BUFFER_CHARS:
            yield "".join(buffer)
            buffer.clear()
            size = 0

    opening = _dumps({"format": FORMAT, "customer_id": customer_id, **header})
    yield from push(opening[:-1] + ', "sections": {')
    first_section = True
    for handler in privacy_handlers():
        for name, queryset in handler.sections(customer_id):
            section = f"{handler.key}.{name}"
            yield from push(("" if first_section else ", ") + _dumps(section) + ": [")
            first_section = False
            rows = 0
            for row in queryset.iterator(chunk_size=CHUNK_ROWS):
                yield from push(
                    ("" if rows == 0 else ", ") + _dumps(row if show_contact else _masked(row))
                )
                rows += 1
            if counts is not None:
                counts[section] = rows
            yield from push("]")
    yield from push("}}\n")
    if buffer:
        yield "".join(buffer)


def customer_export_document(*, customer_id: int, show_contact: bool) -> dict[str, Any]:
    """The whole export as a dict (tests and small callers)."""
    return json.loads(
        "".join(
            customer_export_pieces(customer_id=customer_id, header={}, show_contact=show_contact)
        )
    )
