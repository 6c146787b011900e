"""Demo data: a believable Chinese bank-and-shop customer base, from 50 to millions of customers.

Customer number `i` (1-based) is the demo customer whose SourceRecord has the external id
`DEMO-CB-000000i` (bank) or `DEMO-SH-000000i` (shop). Customers are written in chunks, each in
one transaction, so the demo customers in the database are always numbers 1..k: a second run
with the same count adds nothing and a larger count adds only k+1..N.

Every chunk draws from its own RNG seeded with (seed, chunk start), so the same commands on an
empty database give the same data (times are relative to today, 00:00 UTC). Values are drawn
column-wise (`choices(k=...)`) and written with PostgreSQL's COPY (or `executemany` on SQLite);
there is never an INSERT per row.
History (simple-history) rows are not written: demo customers have no change history.
"""

from __future__ import annotations

import time

from django.db import connection

from crm.models import SourceRecord
from crm.services.demo_data.chunks import (
    _anchor_timestamp,
    _chunk_run,
    _ChunkJob,
    _chunks_run_parallel,
    _missing_ranges,
)
from crm.services.demo_data.staff import _staff_ensure, _tags_ensure
from crm.services.demo_data.summary import DemoDataSummary
from crm.services.demo_data.vocabulary import DEMO_PASSWORD, DEMO_PREFIX

__all__ = ["DEMO_PASSWORD", "DemoDataSummary", "demo_customers_count", "demo_data_generate"]


def demo_data_generate(
    *, customers: int, seed: int = 2026, chunk_size: int = 50_000, workers: int = 1
) -> DemoDataSummary:
    """Make sure demo customers 1..`customers` exist, with staff, teams and everything they own.

    With `workers` > 1 on PostgreSQL, chunks are written by that many processes at once (the
    database does most of the work, on one core per connection).
    """
    if customers < 0:
        raise ValueError("customers must be zero or more")
    started = time.monotonic()
    existing = demo_customers_count()
    summary = DemoDataSummary(requested=customers, existing=existing)
    staff = _staff_ensure(customers=max(customers, existing), summary=summary)
    tags = _tags_ensure(summary=summary)
    anchor = _anchor_timestamp()
    jobs = [
        _ChunkJob(seed=seed, start=start, stop=stop, staff=staff, tags=tags, anchor=anchor)
        for start, stop in _missing_ranges(customers=customers, chunk_size=chunk_size)
    ]
    parallel = (
        workers > 1
        and len(jobs) > 1
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )
    for created in _chunks_run_parallel(jobs, workers) if parallel else map(_chunk_run, jobs):
        for name, count in created.items():
            summary.add(name, count)
    summary.elapsed_s = time.monotonic() - started
    return summary


def demo_customers_count() -> int:
    return SourceRecord.objects.filter(external_id__startswith=DEMO_PREFIX).count()
