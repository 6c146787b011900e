"""Finding duplicate customers at 1M customers with 1% planted duplicates.

    python -m bench.duplicates [--customers 1000000] [--share 0.01] [--seed 7] [--workers 2]

Uses PostgreSQL (DATABASE_URL, default the local `loyalty_dup_bench` database; the fast way to
make it is `CREATE DATABASE loyalty_dup_bench TEMPLATE loyalty_bench`), migrates it and fills it
with the demo data generator when it has fewer demo customers than asked. Then it plants copies
of `share` of the customers the way duplicates arise (the same mobile number or e-mail; the name
with a space, in pinyin, in Western order or a homophone typed by a pinyin input method; the
birth date kept or left out), runs the finder from an empty pair table, and measures:

- recall: the share of planted pairs found;
- precision: the share of reported pairs that are planted, or that really share a mobile
  number or e-mail (the generator gives every customer their own); any other pair among the
  generator's customers counts as false.

A second run checks that nothing changes. Prints key=value lines; the headline `find_s` last.
Planted copies are removed at the start of the next run.
"""

import argparse
import random
import resource
import time
from collections import Counter

from bench.demo_database import demo_database_prepare, django_setup

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/loyalty_dup_bench"
PLANT_PREFIX = "BENCH-DUP-"


def _clean() -> None:
    """Remove the copies a previous run planted, and every pair and merge."""
    from django.db import connection, transaction

    from crm.models import Customer, SourceRecord

    with transaction.atomic():
        planted = SourceRecord.objects.filter(external_id__startswith=PLANT_PREFIX)
        copy_ids = list(planted.values_list("customer_id", flat=True))
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE crm_duplicatepair, crm_customermerge")
        planted.delete()
        Customer.objects.filter(pk__in=copy_ids).delete()


# --- Planting --------------------------------------------------------------------------------


def _pinyin_tables() -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    """The generator's own readings (not pypinyin's, so the finder is not graded by itself)."""
    from crm.services.demo_data.vocabulary import GIVEN_CHARACTERS, SURNAMES

    surnames = {surname: pinyin for surname, pinyin, _weight in SURNAMES}
    given = dict(GIVEN_CHARACTERS)
    homophones: dict[str, list[str]] = {}
    for char, pinyin in GIVEN_CHARACTERS:
        homophones.setdefault(pinyin, []).append(char)
    return surnames, given, homophones


def _split_name(name: str, surnames: dict[str, str]) -> tuple[str, str] | None:
    for length in (2, 1):
        if name[:length] in surnames and len(name) > length:
            return name[:length], name[length:]
    return None


def _name_variant(rng: random.Random, name: str, kind: str, tables) -> tuple[str, str]:
    surnames, given, homophones = tables
    if kind == "business":
        if rng.random() < 0.3:
            return name.replace("有限公司", " 有限公司"), "business_space"
        return name, "same"
    parts = _split_name(name, surnames)
    if parts is None or any(char not in given for char in parts[1]):
        return name, "same"
    surname, given_name = parts
    surname_pinyin = surnames[surname].capitalize()
    given_pinyin = "".join(given[char] for char in given_name).capitalize()
    u = rng.random()
    if u < 0.35:
        return name, "same"
    if u < 0.55:
        return f"{surname} {given_name}", "space"
    if u < 0.85:
        return f"{surname_pinyin} {given_pinyin}", "pinyin"
    if u < 0.90:
        return f"{surname_pinyin} {given_pinyin}".upper(), "pinyin_upper"
    if u < 0.95:
        return f"{given_pinyin} {surname_pinyin}", "pinyin_western"
    last = given_name[-1]
    choices = [char for char in homophones[given[last]] if char != last]
    if not choices:
        return name, "same"
    return f"{surname}{given_name[:-1]}{rng.choice(choices)}", "homophone"


def _plant(*, share: float, seed: int) -> tuple[set[tuple[int, int]], Counter]:
    """Copies of `share` of the customers that have a phone or an e-mail; the planted pairs."""
    from django.db import transaction
    from django.db.models import Q
    from django.utils import timezone

    from crm.models import Customer, Source, SourceRecord

    rng = random.Random(seed)
    tables = _pinyin_tables()
    ids = list(
        Customer.objects.exclude(status=Customer.Status.MERGED)
        .filter(~Q(phone="") | ~Q(email=""))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    total = Customer.objects.count()
    originals = sorted(rng.sample(ids, round(total * share)))
    kinds: Counter = Counter()
    copies: list = []
    planted_from: list[int] = []
    now = timezone.now()
    for start in range(0, len(originals), 5_000):
        rows = Customer.objects.filter(pk__in=originals[start : start + 5_000]).values(
            "pk", "kind", "name", "phone", "email", "birth_date", "owner_id", "team_id"
        )
        for row in rows:
            phone, email = str(row["phone"] or ""), row["email"]
            if phone and email:
                u = rng.random()
                keep_phone, keep_email = u < 0.65, u >= 0.45
            else:
                keep_phone, keep_email = bool(phone), bool(email)
            number = len(copies)
            if keep_phone:
                # As another system writes it: the national number with dashes.
                national = phone[3:]
                new_phone = f"{national[:3]}-{national[3:7]}-{national[7:]}"
            else:
                # 176 is a prefix the generator never uses: no accidental sharing.
                new_phone = "" if rng.random() < 0.3 else f"+86176{number:08d}"
            if keep_email:
                new_email = email
            elif email and rng.random() < 0.2:
                local = email.split("@")[0]
                new_email = f"{local}@{'qq.com' if not email.endswith('qq.com') else '163.com'}"
            else:
                new_email = "" if rng.random() < 0.5 else f"bench{number}@example.net"
            name, name_kind = _name_variant(
                rng, row["name"], "business" if row["kind"] == "business" else "person", tables
            )
            kinds[f"name_{name_kind}"] += 1
            kinds["keeps_phone" if keep_phone else "new_phone"] += 1
            kinds["keeps_email" if keep_email else "new_email"] += 1
            birth_date = row["birth_date"] if rng.random() < 0.95 else None
            copies.append(
                Customer(
                    kind=row["kind"],
                    name=name,
                    phone=new_phone,
                    email=new_email.lower(),
                    birth_date=birth_date,
                    owner_id=row["owner_id"],
                    team_id=row["team_id"],
                    created_at=now,
                )
            )
            planted_from.append(row["pk"])
    with transaction.atomic():
        Customer.objects.bulk_create(copies, batch_size=2_000)
        SourceRecord.objects.bulk_create(
            [
                SourceRecord(
                    customer_id=copy.pk, source=Source.CRM, external_id=f"{PLANT_PREFIX}{original}"
                )
                for copy, original in zip(copies, planted_from, strict=True)
            ],
            batch_size=5_000,
        )
    planted = {
        (min(original, copy.pk), max(original, copy.pk))
        for copy, original in zip(copies, planted_from, strict=True)
    }
    return planted, kinds


# --- Measuring -------------------------------------------------------------------------------


def _evaluate(planted: set[tuple[int, int]]) -> dict[str, float]:
    from crm.models import Customer, DuplicatePair

    reported = {
        (customer, other): reasons
        for customer, other, reasons in DuplicatePair.objects.values_list(
            "customer_id", "other_id", "reasons"
        )
    }
    found = planted & set(reported)
    others = set(reported) - planted
    contacts = {
        pk: (str(phone or ""), email)
        for pk, phone, email in Customer.objects.filter(
            pk__in={pk for pair in others for pk in pair}
        ).values_list("pk", "phone", "email")
    }
    really_shared = {
        (a, b)
        for a, b in others
        if (contacts[a][0] and contacts[a][0] == contacts[b][0])
        or (contacts[a][1] and contacts[a][1] == contacts[b][1])
    }
    false = others - really_shared
    why = Counter(
        "+".join(sorted(r["code"] for r in reported[pair] if not r["code"].startswith("diff")))
        for pair in false
    )
    for reasons, count in why.most_common(5):
        print(f"false_pairs_because={reasons}:{count}")
    return {
        "pairs": len(reported),
        "planted": len(planted),
        "planted_found": len(found),
        "shared_contact_pairs": len(really_shared),
        "false_pairs": len(false),
        "recall": len(found) / len(planted) if planted else 1.0,
        "precision": (len(found) + len(really_shared)) / len(reported) if reported else 1.0,
    }


def _missed(planted: set[tuple[int, int]], limit: int = 5) -> None:
    from crm.duplicates.matching import Candidate, pair_score
    from crm.models import Customer, DuplicatePair

    reported = set(DuplicatePair.objects.values_list("customer_id", "other_id"))
    missed = sorted(planted - reported)[:limit]
    rows = {
        row[0]: row
        for row in Customer.objects.filter(
            pk__in={pk for pair in missed for pk in pair}
        ).values_list("pk", "name", "phone", "email", "birth_date")
    }
    for a, b in missed:
        first, second = (
            Candidate(rows[pk][0], rows[pk][1], str(rows[pk][2] or ""), rows[pk][3], rows[pk][4])
            for pk in (a, b)
        )
        score, _reasons = pair_score(first, second)
        print(f"missed={first.name}|{second.name}|{score}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.01, help="share of customers copied")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2, help="processes for the generator")
    args = parser.parse_args()

    django_setup(DEFAULT_DATABASE_URL)
    from django.db import connection

    from crm.models import DuplicatePair
    from crm.services.duplicates import duplicates_find

    demo_database_prepare(bench="duplicates", customers=args.customers, workers=args.workers)
    _clean()
    started = time.monotonic()
    planted, kinds = _plant(share=args.share, seed=args.seed)
    print(f"plant_s={time.monotonic() - started:.1f}")
    for kind, count in sorted(kinds.items()):
        print(f"planted_{kind}={count}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer")

    summary = duplicates_find()
    find_s = summary.elapsed_s
    print(f"rows_read={summary.rows_read}")
    print(f"comparisons={summary.comparisons}")
    print(f"blocks_skipped={summary.blocks_skipped}")
    figures = _evaluate(planted)
    _missed(planted)
    before = list(DuplicatePair.objects.order_by("pk").values_list("pk", "score"))
    rerun = duplicates_find()
    after = list(DuplicatePair.objects.order_by("pk").values_list("pk", "score"))
    print(f"refind_s={rerun.elapsed_s:.1f}")
    print(f"rerun_unchanged={int(before == after)}")
    print(f"peak_rss_mb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    for key in ("planted", "planted_found", "shared_contact_pairs", "false_pairs"):
        print(f"{key}={figures[key]}")
    print(f"pairs={figures['pairs']}")
    print(f"recall={figures['recall']:.4f}")
    print(f"precision={figures['precision']:.4f}")
    print(f"find_s={find_s:.1f}")


if __name__ == "__main__":
    main()
