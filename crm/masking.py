"""Phones and e-mails shown in lists and exports to those who may not see them whole."""

import contextlib

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
