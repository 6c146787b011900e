"""The rows a chunk's customers own, one step per table: consents, transactions, holdings..."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

from crm.models import (
    BalanceSnapshot,
    Consent,
    CreditEvent,
    CustomerTag,
    Interaction,
    Preference,
    ProductHolding,
    Source,
    SourceRecord,
    Transaction,
)
from crm.services.demo_data.customers import _between, _Chunk, _uniforms
from crm.services.demo_data.vocabulary import (
    BALANCE_DAYS,
    CATEGORIES,
    CONSENT_EVIDENCE,
    CREDIT_EVENTS,
    DAY,
    DEMO_PREFIX,
    HOLDING_COUNT_WEIGHTS,
    HOLDING_COUNTS,
    INTERACTION_COUNT_WEIGHTS,
    INTERACTION_COUNTS,
    INTERACTIONS,
    PAYMENT_METHOD_WEIGHTS,
    PAYMENT_METHODS,
    PREFERENCES,
    PRODUCTS,
    PURCHASE_CHANNEL_WEIGHTS,
    PURCHASE_CHANNELS,
    STAFF_INTERACTIONS,
    TRANSACTION_COUNT_WEIGHTS,
    TRANSACTION_COUNTS,
    TRANSACTION_DAYS,
    TRANSACTION_KIND_WEIGHTS,
    TRANSACTION_KINDS,
)
from crm.services.demo_data.writer import _TimestampFormat, _Writer

# fmt: off
# Columns in the order the row tuples below hold them.
CONSENT_FIELDS = ("id", "customer", "channel", "purpose", "is_granted", "granted_at",
                  "withdrawn_at", "evidence")
TRANSACTION_FIELDS = ("id", "customer", "kind", "amount", "currency", "category", "channel",
                      "payment_method", "merchant", "occurred_at", "source", "external_id",
                      "refund_of", "created_at")
HOLDING_FIELDS = ("id", "customer", "product_type", "product_name", "amount", "currency",
                  "opened_on", "closed_on", "source", "external_id")
# fmt: on

# Every step takes the same keyword arguments and returns how many rows it wrote.


def _source_records_write(*, chunk: _Chunk, writer: _Writer, **_rest: object) -> int:
    ids = writer.reserve_ids(SourceRecord, len(chunk.ids))
    ts = writer.timestamp
    rows = (
        (
            ids[k],
            chunk.ids[k],
            Source.CORE_BANKING if chunk.is_bank[k] else Source.SHOP,
            f"{DEMO_PREFIX}{'CB' if chunk.is_bank[k] else 'SH'}-{chunk.numbers[k]:07d}",
            ts(chunk.created[k]),
        )
        for k in range(len(chunk.ids))
    )
    return writer.write(
        SourceRecord, ("id", "customer", "source", "external_id", "created_at"), rows
    )


def _consents_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    """Marketing consents: a row where the customer answered; granted for a share of them."""
    # channel: (share of customers who answered, share of answers that are yes)
    channels = [
        (Consent.Channel.SMS, 0.8, 0.65),
        (Consent.Channel.EMAIL, 0.5, 0.55),
        (Consent.Channel.PUSH, 0.4, 0.7),
    ]
    ts = writer.timestamp
    draws = []
    for channel, answered, granted in channels:
        n = len(chunk.ids)
        draws.append(
            (
                channel,
                answered,
                granted,
                _uniforms(rng, n),
                _uniforms(rng, n),
                rng.choices(CONSENT_EVIDENCE, k=n),
            )
        )
    candidates = []
    for channel, answered, granted, u, when, evidence in draws:
        for k in range(len(chunk.ids)):
            if u[k] >= answered:
                continue
            is_granted = u[k] < answered * granted
            given = _between(chunk.created[k], anchor, when[k])
            # One in five "no"s is a withdrawn yes: it keeps the time it was given.
            withdrawn = not is_granted and when[k] < 0.2
            candidates.append(
                (
                    chunk.ids[k],
                    channel,
                    Consent.Purpose.MARKETING,
                    is_granted,
                    ts(given) if is_granted or withdrawn else None,
                    ts(min(anchor - 1, given + DAY * 30)) if withdrawn else None,
                    evidence[k],
                )
            )
    ids = writer.reserve_ids(Consent, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    fields = CONSENT_FIELDS
    return writer.write(Consent, fields, rows)


def _transactions_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    n = len(chunk.ids)
    counts = rng.choices(TRANSACTION_COUNTS, weights=TRANSACTION_COUNT_WEIGHTS, k=n)
    total = sum(counts)
    ids = writer.reserve_ids(Transaction, total)
    draws = _TransactionDraws.draw(rng, total)
    rows = _transaction_rows(
        chunk=chunk, counts=counts, ids=ids, draws=draws, anchor=anchor, ts=writer.timestamp
    )
    fields = TRANSACTION_FIELDS
    return writer.write(Transaction, fields, rows)


@dataclass
class _TransactionDraws:
    kinds: list[str]
    categories: list[str]
    channels: list[str]
    payments: list[str]
    times: list[float]
    amounts: list[float]
    picks: list[float]

    @classmethod
    def draw(cls, rng: random.Random, total: int) -> _TransactionDraws:
        return cls(
            kinds=rng.choices(TRANSACTION_KINDS, weights=TRANSACTION_KIND_WEIGHTS, k=total),
            categories=rng.choices(
                list(CATEGORIES), weights=[c[0] for c in CATEGORIES.values()], k=total
            ),
            channels=rng.choices(PURCHASE_CHANNELS, weights=PURCHASE_CHANNEL_WEIGHTS, k=total),
            payments=rng.choices(PAYMENT_METHODS, weights=PAYMENT_METHOD_WEIGHTS, k=total),
            times=_uniforms(rng, total),
            amounts=_uniforms(rng, total),
            picks=_uniforms(rng, total),
        )


def _transaction_rows(
    *,
    chunk: _Chunk,
    counts: list[int],
    ids: list[int],
    draws: _TransactionDraws,
    anchor: int,
    ts: _TimestampFormat,
) -> Iterator[tuple]:
    """A customer's transactions in time order; a refund returns (part of) an earlier purchase."""
    purchase, refund = Transaction.Kind.PURCHASE, Transaction.Kind.REFUND
    repayment = Transaction.Kind.CARD_REPAYMENT
    in_store = {Transaction.Channel.STORE, Transaction.Channel.POS}
    window_start = anchor - TRANSACTION_DAYS * DAY
    position = 0
    for k, count in enumerate(counts):
        if not count:
            continue
        customer_id, number, is_bank = chunk.ids[k], chunk.numbers[k], chunk.is_bank[k]
        start = max(window_start, chunk.created[k])
        span = anchor - start - 1
        times = sorted(draws.times[position : position + count])
        refundable: list[tuple] = []  # purchases not refunded yet: (id, amount, columns...)
        for j in range(count):
            p = position + j
            kind = draws.kinds[p]
            if (kind == refund and not refundable) or (kind == repayment and not is_bank):
                kind = purchase
            u = draws.amounts[p]
            refund_of = None
            if kind == purchase:
                category = draws.categories[p]
                _, low, high, merchants = CATEGORIES[category]
                amount = max(0.01, round(low * (high / low) ** u, 2))
                merchant = merchants[int(draws.picks[p] * len(merchants))]
                channel, payment = draws.channels[p], draws.payments[p]
                refundable.append((ids[p], amount, category, merchant, channel, payment))
            elif kind == refund:
                original = refundable.pop(int(draws.picks[p] * len(refundable)))
                refund_of, full, category, merchant, channel, payment = original
                amount = full if u < 0.6 else max(0.01, round(full * u, 2))
            else:
                amount = round(500 * 40**u, 2)
                category, merchant = Transaction.Category.OTHER, "信用卡还款"
                channel = Transaction.Channel.APP if u < 0.8 else Transaction.Channel.BRANCH
                payment = Transaction.PaymentMethod.ACCOUNT
            if is_bank:
                source = Source.CORE_BANKING
            else:
                source = Source.POS if channel in in_store else Source.SHOP
            occurred = ts(start + int(span * times[j]))
            yield (
                ids[p],
                customer_id,
                kind,
                f"{amount:.2f}",
                "CNY",
                category,
                channel,
                payment,
                merchant,
                occurred,
                source,
                f"{DEMO_PREFIX}TX-{number:07d}-{j + 1:03d}",
                refund_of,
                occurred,
            )
        position += count


def _balances_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    """92 daily balances per bank customer: a level, a trend over the quarter and a wobble."""
    customer_ids = [cid for cid, bank in zip(chunk.ids, chunk.is_bank, strict=True) if bank]
    if not customer_ids:
        return 0
    n = len(customer_ids)
    # Median 25,000; about 28% average above 50,000, the usual "gold" threshold.
    levels = [rng.lognormvariate(math.log(25_000), 1.2) for _ in range(n)]
    trends = [u * 0.6 - 0.3 for u in _uniforms(rng, n)]
    phases = [u * 2 * math.pi for u in _uniforms(rng, n)]
    first_day = anchor // DAY - BALANCE_DAYS
    if writer.vendor == "postgresql":
        return _balances_insert_select(customer_ids, levels, trends, phases, first_day)
    rows = (
        (
            customer_ids[k],
            writer.timestamp.date(first_day + day),
            f"{_balance(levels[k], trends[k], phases[k], day):.2f}",
            "CNY",
        )
        for k in range(n)
        for day in range(BALANCE_DAYS)
    )
    return writer.write(BalanceSnapshot, ("customer", "date", "amount", "currency"), rows)


def _balance(level: float, trend: float, phase: float, day: int) -> float:
    return level * (1 + trend * day / (BALANCE_DAYS - 1)) * (1 + 0.03 * math.sin(day / 7 + phase))


def _balances_insert_select(
    customer_ids: list[int],
    levels: list[float],
    trends: list[float],
    phases: list[float],
    first_day: int,
) -> int:
    """The same formula as `_balance`, expanded to 92 days by PostgreSQL in one statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {BalanceSnapshot._meta.db_table} (customer_id, date, amount, currency)
            SELECT c.id, DATE '1970-01-01' + %(first_day)s + d,
                   round((c.level * (1 + c.trend * d / %(last)s)
                          * (1 + 0.03 * sin(d / 7.0 + c.phase)))::numeric, 2),
                   'CNY'
            FROM unnest(%(ids)s::bigint[], %(levels)s::float8[], %(trends)s::float8[],
                        %(phases)s::float8[]) AS c(id, level, trend, phase)
            CROSS JOIN generate_series(0, %(last)s) AS d
            """,  # noqa: S608 - the table name is the model's
            {
                "ids": customer_ids,
                "levels": levels,
                "trends": trends,
                "phases": phases,
                "first_day": first_day,
                "last": BALANCE_DAYS - 1,
            },
        )
        return cursor.rowcount


def _holdings_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    banked = [k for k, bank in enumerate(chunk.is_bank) if bank]
    counts = rng.choices(HOLDING_COUNTS, weights=HOLDING_COUNT_WEIGHTS, k=len(banked))
    total = sum(counts)
    types = rng.choices(list(PRODUCTS), weights=[p[0] for p in PRODUCTS.values()], k=total)
    amounts, picks, opened, closed = (_uniforms(rng, total) for _ in range(4))
    ts = writer.timestamp
    candidates = []
    position = 0
    for k, count in zip(banked, counts, strict=True):
        created_day = chunk.created[k] // DAY
        for j in range(count):
            p = position + j
            _, low, high, names = PRODUCTS[types[p]]
            opened_day = created_day + int(opened[p] * (anchor // DAY - created_day))
            closed_day = None
            if closed[p] < 0.08:
                closed_day = opened_day + int(closed[p] / 0.08 * (anchor // DAY - opened_day))
            candidates.append(
                (
                    chunk.ids[k],
                    types[p],
                    names[int(picks[p] * len(names))],
                    f"{round(low * (high / low) ** amounts[p], -2):.2f}",
                    "CNY",
                    ts.date(opened_day),
                    ts.date(closed_day) if closed_day is not None else None,
                    Source.CORE_BANKING,
                    f"{DEMO_PREFIX}H-{chunk.numbers[k]:07d}-{j + 1}",
                )
            )
        position += count
    ids = writer.reserve_ids(ProductHolding, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    fields = HOLDING_FIELDS
    return writer.write(ProductHolding, fields, rows)


def _credit_events_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    n = len(chunk.ids)
    hit, when, resolved = _uniforms(rng, n), _uniforms(rng, n), _uniforms(rng, n)
    events = rng.choices(CREDIT_EVENTS, weights=[e[3] for e in CREDIT_EVENTS], k=n)
    ts = writer.timestamp
    candidates = []
    for k in range(n):
        # 1% of customers; four times as likely for bank customers, who hold loans and cards.
        if hit[k] >= (0.03 if chunk.is_bank[k] else 0.0075):
            continue
        kind, severity, note, _ = events[k]
        occurred = _between(chunk.created[k], anchor, when[k])
        is_resolved = severity == CreditEvent.Severity.MINOR and resolved[k] < 0.6
        candidates.append(
            (
                chunk.ids[k],
                kind,
                severity,
                ts(occurred),
                ts(min(anchor - 1, occurred + 20 * DAY)) if is_resolved else None,
                note,
            )
        )
    ids = writer.reserve_ids(CreditEvent, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    fields = ("id", "customer", "kind", "severity", "occurred_at", "resolved_at", "note")
    return writer.write(CreditEvent, fields, rows)


def _interactions_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    n = len(chunk.ids)
    counts = rng.choices(INTERACTION_COUNTS, weights=INTERACTION_COUNT_WEIGHTS, k=n)
    total = sum(counts)
    kinds = rng.choices(list(INTERACTIONS), weights=[i[0] for i in INTERACTIONS.values()], k=total)
    picks, times = _uniforms(rng, total), _uniforms(rng, total)
    ids = writer.reserve_ids(Interaction, total)
    ts = writer.timestamp
    window_start = anchor - TRANSACTION_DAYS * DAY

    def rows() -> Iterator[tuple]:
        position = 0
        for k, count in enumerate(counts):
            start = max(window_start, chunk.created[k])
            for p in range(position, position + count):
                kind = kinds[p]
                if kind == Interaction.Kind.VISIT and not chunk.is_bank[k]:
                    kind = Interaction.Kind.CALL
                summaries = INTERACTIONS[kind][1]
                staff = chunk.owner_ids[k] if kind in STAFF_INTERACTIONS else None
                yield (
                    ids[p],
                    chunk.ids[k],
                    kind,
                    ts(_between(start, anchor, times[p])),
                    summaries[int(picks[p] * len(summaries))],
                    staff,
                )
            position += count

    fields = ("id", "customer", "kind", "occurred_at", "summary", "staff")
    return writer.write(Interaction, fields, rows())


def _preferences_write(
    *, rng: random.Random, chunk: _Chunk, anchor: int, writer: _Writer, **_rest: object
) -> int:
    n = len(chunk.ids)
    hit, when = _uniforms(rng, n), _uniforms(rng, n)
    texts = rng.choices(PREFERENCES, k=n)
    ts = writer.timestamp
    candidates = [
        (
            chunk.ids[k],
            texts[k],
            chunk.owner_ids[k],
            ts(_between(chunk.created[k], anchor, when[k])),
        )
        for k in range(n)
        if hit[k] < 0.1
    ]
    ids = writer.reserve_ids(Preference, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    return writer.write(Preference, ("id", "customer", "text", "created_by", "created_at"), rows)


def _customer_tags_write(
    *,
    rng: random.Random,
    chunk: _Chunk,
    anchor: int,
    writer: _Writer,
    tags: list[tuple[int, int]],
    **_rest: object,
) -> int:
    """Some customers carry a manual tag or two; each tag on its own share of customers."""
    n = len(chunk.ids)
    ts = writer.timestamp
    candidates: list[tuple[int, int, str]] = []
    for tag_id, share in tags:
        hit, when = _uniforms(rng, n), _uniforms(rng, n)
        candidates.extend(
            (chunk.ids[k], tag_id, ts(_between(chunk.created[k], anchor, when[k])))
            for k in range(n)
            if hit[k] * 1000 < share
        )
    ids = writer.reserve_ids(CustomerTag, len(candidates))
    rows = ((ids[k], *row) for k, row in enumerate(candidates))
    return writer.write(CustomerTag, ("id", "customer", "tag", "tagged_at"), rows)
