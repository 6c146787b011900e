"""How alike two customers are: normalised names, pinyin, and a 0-100 score with its reasons.

Names are compared twice over: as written (汉字 against 汉字, after removing spaces and
punctuation, so 张伟 ~ 张 伟) and as they sound (pinyin syllables, so 张伟 ~ "Zhang Wei" ~
"WEI Zhang" ~ "zhangwei"). Two names both written in 汉字 that only sound alike (张伟 / 张玮,
the typical slip of a pinyin input method) count for less than the same characters: many
different people share a sound.

The score adds up evidence, Fellegi-Sunter style: agreement on something rare (a mobile number,
an e-mail, a full name with the birth date) counts for, disagreement on something a person
rarely has two of (a birth date, a verified mobile number) counts against. The weights below
were checked against the duplicate benchmark (`python -m bench.duplicates`); a name with the
birth date alone reaches the review threshold, but not when the two records hold different
mobile numbers: at a million customers about a thousand pairs of different people share a
common name (王伟, 张静...) and a birth date, nearly all with two different numbers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

# --- Weights (points on a 0-100 scale) -------------------------------------------------------
SAME_PHONE = 45
SAME_EMAIL = 45
SAME_BIRTH_DATE = 20
SIMILAR_EMAIL_LOCAL = 10  # the same local part at another provider: a weak hint
DIFFERENT_BIRTH_DATE = -30  # nobody has two birth dates; a typo is the only excuse
DIFFERENT_PHONE = -15  # real-name mobile numbers: people change them, but rarely hold two
DIFFERENT_EMAIL = -5  # many people have several addresses
NAME_WEIGHT = 0.8  # points per similarity point above NAME_NEUTRAL
NAME_NEUTRAL = 50.0  # a similarity that says nothing either way
NAME_MAX_POINTS = 40
NAME_MIN_POINTS = -20
# 汉字 names that only sound alike are "similar" at most this much.
HOMOPHONE_CAP = 85.0
# A name at least this similar is reported as "similar_name".
SIMILAR_NAME = 80.0
# Pairs below this score are not worth a supervisor's time (CRM_DUPLICATE_MIN_SCORE overrides).
DEFAULT_MIN_SCORE = 55.0

# Reason codes stored on DuplicatePair.reasons; the admin shows their labels.
REASON_CODES = (
    "same_phone",
    "same_email",
    "similar_email_local",
    "same_birth_date",
    "similar_name",
    "different_name",
    "different_phone",
    "different_email",
    "different_birth_date",
)

# Surnames whose reading differs from the character's everyday one (pypinyin reads 曾 as
# "ceng", 单 as "dan"); only the first character of a 汉字 name is read this way.
SURNAME_PINYIN = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "朴": "piao",
    "查": "zha",
    "区": "ou",
    "盖": "ge",
    "乐": "yue",
    "缪": "miao",
    "翟": "zhai",
    "覃": "qin",
    "召": "shao",
    "种": "chong",
    "牟": "mou",
    "尉": "yu",
    "长": "chang",
    "重": "chong",
    "沈": "shen",
    "秘": "bi",
    "宓": "mi",
}

_SEPARATORS = re.compile(r"[\s·•・.\-_,，、'’\"“”()（）/]+")


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF


@lru_cache(maxsize=32_768)
def _char_pinyin(char: str) -> str:
    # Imported here: pypinyin's dictionaries take 50 MB and a quarter second, which the web
    # processes that never compare names need not pay.
    from pypinyin import lazy_pinyin

    return lazy_pinyin(char)[0]


@dataclass(frozen=True, slots=True)
class NameKey:
    """A name made comparable: written form, pinyin syllables, and blocking initials."""

    compact: str  # NFKC, lower case, without spaces and punctuation: "张伟", "zhangwei"
    is_cjk: bool  # written in 汉字
    spaced: str  # pinyin syllables (or Latin words) with spaces: "zhang wei"
    joined: str  # the same without spaces: "zhangwei"
    # A Latin name with its last word first ("Bohui Cui" -> "cuibohui"): Western order turned
    # back into the surname-first order of pinyin; "" for 汉字 names and single words.
    turned: str
    initials: frozenset[str]  # the letters a pinyin-ordered or Western-ordered name starts with


@lru_cache(maxsize=65_536)
def name_key(name: str) -> NameKey:
    """The comparable forms of a name (cached: a million customers share far fewer names)."""
    text = unicodedata.normalize("NFKC", name or "").lower().replace("ü", "v")
    parts = [part for part in _SEPARATORS.split(text) if part]
    syllables: list[str] = []
    cjk_count = 0
    for part in parts:
        run = ""
        for char in part:
            if _is_cjk(char):
                if run:
                    syllables.append(run)
                    run = ""
                reading = SURNAME_PINYIN.get(char) if cjk_count == 0 and not syllables else None
                syllables.append(reading or _char_pinyin(char))
                cjk_count += 1
            else:
                run += char
        if run:
            syllables.append(run)
    compact = "".join(parts)
    is_cjk = cjk_count > 0 and cjk_count * 2 >= len(compact)
    initials = set()
    if syllables:
        initials.add(syllables[0][0])
        if not is_cjk:
            # "Wei Zhang" (given name first, as on a passport) must meet 张伟.
            initials.add(syllables[-1][0])
    turned = syllables[-1] + "".join(syllables[:-1]) if not is_cjk and len(syllables) > 1 else ""
    return NameKey(
        compact=compact,
        is_cjk=is_cjk,
        spaced=" ".join(syllables),
        joined="".join(syllables),
        turned=turned,
        initials=frozenset(initials),
    )


def name_similarity(first: str, second: str) -> float:
    """0-100: how alike two names are, written or spoken (see the module's docstring)."""
    a, b = name_key(first), name_key(second)
    if not a.compact or not b.compact:
        return 0.0
    if a.compact == b.compact:
        return 100.0
    if a.is_cjk and b.is_cjk:
        written = fuzz.ratio(a.compact, b.compact)
        spoken = fuzz.ratio(a.joined, b.joined)
        return max(written, min(spoken, HOMOPHONE_CAP))
    return max(
        fuzz.ratio(a.joined, b.joined),
        fuzz.token_sort_ratio(a.spaced, b.spaced),
        fuzz.ratio(a.turned, b.joined) if a.turned else 0.0,
        fuzz.ratio(a.joined, b.turned) if b.turned else 0.0,
    )


def name_similarity_needed(threshold: float) -> float:
    """The least name similarity with which two customers born the same day, sharing neither
    mobile number nor e-mail, can still reach `threshold`: a cheap first test for the many
    pairs a birth-date block holds."""
    best_other_evidence = SAME_BIRTH_DATE + max(0, SIMILAR_EMAIL_LOCAL + DIFFERENT_EMAIL)
    needed_points = threshold - best_other_evidence
    if needed_points <= NAME_MIN_POINTS:
        return 0.0
    return NAME_NEUTRAL + needed_points / NAME_WEIGHT


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the matcher needs to know of one customer."""

    id: int
    name: str
    phone: str
    email: str
    birth_date: date | None

    @property
    def key(self) -> NameKey:
        return name_key(self.name)


def _email_local(email: str) -> str:
    local = email.split("@", 1)[0]
    return local.replace(".", "").replace("_", "").replace("-", "")


def _email_locals_alike(first: str, second: str) -> bool:
    a, b = _email_local(first), _email_local(second)
    if a == b:
        return len(a) >= 4
    if a.isdigit() or b.isdigit():
        # QQ numbers one digit apart belong to different people.
        return False
    return min(len(a), len(b)) >= 5 and fuzz.ratio(a, b) >= 90


def pair_score(a: Candidate, b: Candidate) -> tuple[float, list[dict[str, Any]]]:
    """The score (0-100) of two customers being one person, and the reasons for it."""
    reasons: list[dict[str, Any]] = []
    similarity = round(name_similarity(a.name, b.name), 1)
    points = min(NAME_MAX_POINTS, max(NAME_MIN_POINTS, (similarity - NAME_NEUTRAL) * NAME_WEIGHT))
    code = "similar_name" if similarity >= SIMILAR_NAME else "different_name"
    reasons.append({"code": code, "similarity": similarity})
    if a.phone and b.phone:
        if a.phone == b.phone:
            points += SAME_PHONE
            reasons.append({"code": "same_phone"})
        else:
            points += DIFFERENT_PHONE
            reasons.append({"code": "different_phone"})
    if a.email and b.email:
        if a.email == b.email:
            points += SAME_EMAIL
            reasons.append({"code": "same_email"})
        elif _email_locals_alike(a.email, b.email):
            points += SIMILAR_EMAIL_LOCAL + DIFFERENT_EMAIL
            reasons.append({"code": "similar_email_local"})
        else:
            points += DIFFERENT_EMAIL
            reasons.append({"code": "different_email"})
    if a.birth_date and b.birth_date:
        if a.birth_date == b.birth_date:
            points += SAME_BIRTH_DATE
            reasons.append({"code": "same_birth_date"})
        else:
            points += DIFFERENT_BIRTH_DATE
            reasons.append({"code": "different_birth_date"})
    return round(min(100.0, max(0.0, points)), 1), reasons
