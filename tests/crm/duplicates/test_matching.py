"""Names and scores, without the database: 汉字, spaces, pinyin, and the weight of each signal."""

from datetime import date

import pytest

from crm.duplicates.matching import (
    Candidate,
    name_key,
    name_similarity,
    name_similarity_needed,
    pair_score,
)

BIRTHDAY = date(1988, 5, 17)


def person(pk: int, name: str, *, phone="", email="", birth_date=None) -> Candidate:
    return Candidate(id=pk, name=name, phone=phone, email=email, birth_date=birth_date)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("张伟", "张 伟"),
        ("张伟", "Zhang Wei"),
        ("张伟", "ZHANG WEI"),
        ("张伟", "Wei Zhang"),
        ("崔博辉", "Bohui Cui"),
        ("张伟", "zhangwei"),
        ("欧阳娜娜", "Ouyang Nana"),
        ("曾伟", "Zeng Wei"),  # the surname's reading, not the everyday "ceng"
        ("吕敏", "Lü Min"),
        ("上海华信贸易有限公司", "上海 华信贸易 有限公司"),
    ],
)
def test_the_same_name_written_differently_is_the_same(first, second):
    assert name_similarity(first, second) == 100


def test_names_that_only_sound_alike_are_similar_but_not_the_same():
    assert name_similarity("张伟", "张玮") == 85


def test_different_names_are_not_similar():
    assert name_similarity("王伟", "李娜") < 50
    assert name_similarity("王伟", "王芳") < 60


def test_a_western_ordered_pinyin_name_shares_an_initial_with_the_汉字_one():
    assert name_key("张伟").initials <= name_key("Wei Zhang").initials


def test_same_phone_and_name_scores_high_with_reasons():
    score, reasons = pair_score(
        person(1, "张伟", phone="+8613800138000", birth_date=BIRTHDAY),
        person(2, "Zhang Wei", phone="+8613800138000", birth_date=BIRTHDAY),
    )
    assert score == 100
    codes = [reason["code"] for reason in reasons]
    assert codes == ["similar_name", "same_phone", "same_birth_date"]
    assert reasons[0]["similarity"] == 100


def test_same_name_and_birth_date_alone_is_worth_a_review():
    score, _ = pair_score(
        person(1, "张伟", birth_date=BIRTHDAY), person(2, "张 伟", birth_date=BIRTHDAY)
    )
    assert score >= 55


def test_same_name_and_birth_date_with_two_different_mobiles_is_not():
    """Common names and a birth date are shared by strangers; different real-name mobile
    numbers make that the likelier story."""
    score, reasons = pair_score(
        person(1, "张伟", phone="+8613800138000", birth_date=BIRTHDAY),
        person(2, "张伟", phone="+8613900139000", birth_date=BIRTHDAY),
    )
    assert score < 55
    assert {"code": "different_phone"} in reasons


def test_a_shared_phone_with_another_name_and_birth_date_is_family_not_a_duplicate():
    score, _ = pair_score(
        person(1, "张伟", phone="+8613800138000", birth_date=date(1960, 1, 2)),
        person(2, "李娜", phone="+8613800138000", birth_date=date(1990, 3, 4)),
    )
    assert score < 55


def test_the_same_email_local_part_at_another_provider_is_a_weak_hint():
    _, reasons = pair_score(
        person(1, "张伟", email="zhangwei88@163.com"), person(2, "张伟", email="zhangwei88@qq.com")
    )
    assert {"code": "similar_email_local"} in reasons
    _, reasons = pair_score(
        person(1, "张伟", email="1234567@qq.com"), person(2, "张伟", email="1234568@qq.com")
    )
    assert {"code": "different_email"} in reasons


def test_the_name_test_before_scoring_never_drops_a_pair_that_would_be_reported():
    """The birth-date pass skips names less alike than `name_similarity_needed`; no pair without
    a shared phone or e-mail may reach the threshold below it."""
    names = ["张伟", "张 伟", "张玮", "Zhang Wei", "Wei Zhang", "张伟明", "章伟", "王伟", "Zhang"]
    contacts = [
        ("", ""),
        ("+8613800138000", ""),
        ("", "zhangwei88@163.com"),
        ("+8613900139000", "zhangwei88@qq.com"),
    ]
    threshold = 55
    needed = name_similarity_needed(threshold)
    for first_name in names:
        for second_name in names:
            for phone_a, email_a in contacts:
                for phone_b, email_b in contacts:
                    if (phone_a and phone_a == phone_b) or (email_a and email_a == email_b):
                        continue
                    score, _ = pair_score(
                        person(1, first_name, phone=phone_a, email=email_a, birth_date=BIRTHDAY),
                        person(2, second_name, phone=phone_b, email=email_b, birth_date=BIRTHDAY),
                    )
                    if score >= threshold:
                        assert name_similarity(first_name, second_name) >= needed
