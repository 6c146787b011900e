"""The customers of one chunk: names, phones, e-mails and birth dates drawn column-wise."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from crm.models import Customer
from crm.services.demo_data.staff import _Staff
from crm.services.demo_data.vocabulary import (
    BUSINESS_CITIES,
    BUSINESS_TRADES,
    BUSINESS_WORDS,
    DAY,
    EMAIL_DOMAIN_WEIGHTS,
    EMAIL_DOMAINS,
    GIVEN_CHARACTERS,
    HISTORY_DAYS,
    MOBILE_PREFIXES,
    SURNAMES,
)
from crm.services.demo_data.writer import _Writer

# fmt: off
# Columns in the order the row tuples below hold them.
CUSTOMER_FIELDS = ("id", "kind", "name", "phone", "email", "birth_date", "is_student", "status",
                   "owner", "team", "created_at", "updated_at")
# fmt: on


@dataclass
class _Chunk:
    """The customers of one chunk, column-wise, as their children need them."""

    numbers: list[int]
    ids: list[int]
    is_bank: list[bool]
    owner_ids: list[int]
    created: list[int]


def _customers_write(
    *,
    rng: random.Random,
    start: int,
    stop: int,
    staff: _Staff,
    anchor: int,
    writer: _Writer,
) -> _Chunk:
    n = stop - start
    ts = writer.timestamp
    numbers = list(range(start + 1, stop + 1))
    ids = writer.reserve_ids(Customer, n)
    is_business = [u < 0.03 for u in _uniforms(rng, n)]
    is_bank = [u < 0.2 for u in _uniforms(rng, n)]
    is_student = [
        not business and u < 0.05
        for business, u in zip(is_business, _uniforms(rng, n), strict=True)
    ]
    owner_ids = rng.choices(staff.rm_ids, k=n)
    created = [anchor - int(u * HISTORY_DAYS * DAY) for u in _uniforms(rng, n)]
    names, name_pinyin = _names(rng, n, is_business)
    phones = _phones(rng, numbers)
    emails = _emails(rng, numbers, name_pinyin, is_business)
    birth_dates = _birth_dates(rng, anchor, is_business, is_student)
    statuses = rng.choices(
        [Customer.Status.ACTIVE, Customer.Status.DORMANT, Customer.Status.CLOSED],
        weights=[90, 8, 2],
        k=n,
    )
    kinds = [Customer.Kind.BUSINESS if b else Customer.Kind.INDIVIDUAL for b in is_business]
    rows = (
        (
            ids[k],
            kinds[k],
            names[k],
            phones[k],
            emails[k],
            birth_dates[k],
            is_student[k],
            statuses[k],
            owner_ids[k],
            staff.team_of[owner_ids[k]],
            ts(created[k]),
            ts(created[k]),
        )
        for k in range(n)
    )
    fields = CUSTOMER_FIELDS
    writer.write(Customer, fields, rows)
    return _Chunk(numbers=numbers, ids=ids, is_bank=is_bank, owner_ids=owner_ids, created=created)


def _between(start: int, stop: int, u: float) -> int:
    """The point at fraction `u` of [start, stop)."""
    return start + int(u * (stop - start - 1))


def _uniforms(rng: random.Random, n: int) -> list[float]:
    draw = rng.random
    return [draw() for _ in range(n)]


def _names(rng: random.Random, n: int, is_business: list[bool]) -> tuple[list[str], list[str]]:
    """Chinese names (and a pinyin spelling for the e-mail) or company names."""
    surnames = rng.choices(SURNAMES, weights=[w for _, _, w in SURNAMES], k=n)
    first = rng.choices(GIVEN_CHARACTERS, k=n)
    second = rng.choices(GIVEN_CHARACTERS, k=n)
    one_character = [u < 0.3 for u in _uniforms(rng, n)]
    cities = rng.choices(BUSINESS_CITIES, k=n)
    words = rng.choices(BUSINESS_WORDS, k=n)
    trades = rng.choices(BUSINESS_TRADES, k=n)
    names, pinyin = [], []
    for k in range(n):
        if is_business[k]:
            names.append(f"{cities[k]}{words[k]}{trades[k]}有限公司")
            pinyin.append("info")
            continue
        surname, surname_pinyin, _ = surnames[k]
        if one_character[k]:
            names.append(surname + first[k][0])
            pinyin.append(surname_pinyin + first[k][1])
        else:
            names.append(surname + first[k][0] + second[k][0])
            pinyin.append(surname_pinyin + first[k][1] + second[k][1])
    return names, pinyin


def _phones(rng: random.Random, numbers: list[int]) -> list[str]:
    """Unique mobile numbers in E.164: the last eight digits are a bijection of the number."""
    prefixes = rng.choices(MOBILE_PREFIXES, k=len(numbers))
    missing = _uniforms(rng, len(numbers))
    return [
        "" if u < 0.03 else f"+86{prefix}{(number * 48_271 + 13_579_246) % 100_000_000:08d}"
        for number, prefix, u in zip(numbers, prefixes, missing, strict=True)
    ]


def _emails(
    rng: random.Random, numbers: list[int], name_pinyin: list[str], is_business: list[bool]
) -> list[str]:
    """About 60% have an e-mail; unique, as the number is part of the local part."""
    n = len(numbers)
    has_email = _uniforms(rng, n)
    is_qq = _uniforms(rng, n)
    domains = rng.choices(EMAIL_DOMAINS, weights=EMAIL_DOMAIN_WEIGHTS, k=n)
    emails = []
    for k in range(n):
        if has_email[k] >= (0.9 if is_business[k] else 0.6):
            emails.append("")
        elif is_qq[k] < 0.35 and not is_business[k]:
            # QQ numbers and the pinyin suffix are bijections of the customer number.
            emails.append(f"{100_000 + numbers[k] * 7_919 % 999_999_937}@qq.com")
        else:
            emails.append(f"{name_pinyin[k]}{(numbers[k] * 7_919 + 123) % 10_000_000}@{domains[k]}")
    return emails


def _birth_dates(
    rng: random.Random, anchor: int, is_business: list[bool], is_student: list[bool]
) -> list[str | None]:
    n = len(is_business)
    adult_ages = rng.choices(range(22, 81), weights=[60 - abs(a - 40) for a in range(22, 81)], k=n)
    student_ages = rng.choices(range(18, 26), k=n)
    days_in_year = _uniforms(rng, n)
    today = date(1970, 1, 1) + timedelta(days=anchor // DAY)
    result: list[str | None] = []
    for k in range(n):
        if is_business[k]:
            result.append(None)
            continue
        age = student_ages[k] if is_student[k] else adult_ages[k]
        birthday = today - timedelta(days=int((age + days_in_year[k]) * 365.25))
        result.append(birthday.isoformat())
    return result
