"""Phones and e-mails shown in lists and exports to those who may not see them whole."""

import contextlib
import re

import phonenumbers


def mask_phone(phone: object) -> str:
    """`138****8000`: enough to recognise a number, not enough to call it."""
    if not phone:
        return ""
    if isinstance(phone, str):
        with contextlib.suppress(phonenumbers.NumberParseException):
            phone = phonenumbers.parse(phone, "CN")
    national = str(getattr(phone, "national_number", "") or phone)
    digits = "".join(ch for ch in national if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def mask_email(email: str) -> str:
    """`z***@example.com`."""
    if not email or "@" not in email:
        return ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


def user_can_see_contact(user) -> bool:
    return bool(user.is_active and user.has_perm("crm.view_customer_contact"))


# A Chinese mobile number (optionally +86) or an e-mail address inside free text.
_PHONE_IN_TEXT = re.compile(r"(?<!\d)(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?!\d)")
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_text(text: str) -> str:
    """Free text with the mobile numbers and e-mails in it masked (exports, S6's regex scan)."""
    if not text:
        return text
    text = _PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    return _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), text)
