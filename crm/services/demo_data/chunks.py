"""Which chunks of demo customers are missing, and writing each chunk in one transaction."""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from django.db import connections, transaction
from django.db.models import Count, ExpressionWrapper, IntegerField
from django.db.models.functions import Cast, Substr

from crm.models import SourceRecord
from crm.services.demo_data.activity import (
    _balances_write,
    _consents_write,
    _credit_events_write,
    _customer_tags_write,
    _holdings_write,
    _interactions_write,
    _preferences_write,
    _source_records_write,
    _transactions_write,
)
from crm.services.demo_data.customers import _customers_write
from crm.services.demo_data.staff import _Staff
from crm.services.demo_data.vocabulary import DAY, DEMO_PREFIX
from crm.services.demo_data.writer import _Writer

logger = logging.getLogger(__name__)


def _missing_ranges(*, customers: int, chunk_size: int) -> list[tuple[int, int]]:
    """The customer indexes still to write, per chunk aligned to the chunk size.

    A chunk is written in one transaction, and a run writes the rest of a chunk after what
    an earlier, smaller run left; so what exists of a chunk is always its first k customers.
    """
    number = Cast(Substr("external_id", len(DEMO_PREFIX) + 4), IntegerField())
    present = dict(
        SourceRecord.objects.filter(external_id__startswith=DEMO_PREFIX)
        .annotate(chunk=ExpressionWrapper((number - 1) / chunk_size, IntegerField()))
        .values_list("chunk")
        .annotate(n=Count("id"))
        .order_by()
    )
    ranges = []
    for chunk_start in range(0, customers, chunk_size):
        start = chunk_start + present.get(chunk_start // chunk_size, 0)
        stop = min(customers, chunk_start + chunk_size)
        if start < stop:
            ranges.append((start, stop))
    return ranges


def _anchor_timestamp() -> int:
    """Today at 00:00 UTC: data ends there, so a rerun on the same day draws the same times."""
    now = int(time.time())
    return now - now % DAY


@dataclass
class _ChunkJob:
    seed: int
    start: int
    stop: int
    staff: _Staff
    tags: list[tuple[int, int]]
    anchor: int


def _chunk_run(job: _ChunkJob) -> dict[str, int]:
    """Write customers start..stop-1 and what they own in one transaction; the rows per table."""
    started = time.monotonic()
    rng = random.Random(f"{job.seed}:{job.start}")  # noqa: S311 - demo data, not security
    writer = _Writer()
    with transaction.atomic():
        chunk = _customers_write(
            rng=rng,
            start=job.start,
            stop=job.stop,
            staff=job.staff,
            anchor=job.anchor,
            writer=writer,
        )
        created = {"customers": len(chunk.ids)}
        steps: list[tuple[str, Callable[..., int]]] = [
            ("source records", _source_records_write),
            ("consents", _consents_write),
            ("transactions", _transactions_write),
            ("balance snapshots", _balances_write),
            ("product holdings", _holdings_write),
            ("credit events", _credit_events_write),
            ("interactions", _interactions_write),
            ("preferences", _preferences_write),
            ("customer tags", _customer_tags_write),
        ]
        for name, step in steps:
            created[name] = step(
                rng=rng, chunk=chunk, anchor=job.anchor, writer=writer, tags=job.tags
            )
    logger.info(
        "demo data: customers %d-%d written in %.1fs",
        job.start + 1,
        job.stop,
        time.monotonic() - started,
    )
    return created


def _chunks_run_parallel(jobs: list[_ChunkJob], workers: int) -> list[dict[str, int]]:
    """Run the chunks in forked processes, each on its own database connection."""
    # A forked child must not share the parent's socket: close it, and each child opens its own.
    connections.close_all()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"))
    try:
        futures = [pool.submit(_chunk_run, job) for job in jobs]
        return [future.result() for future in futures]
    finally:
        # After a failure, chunks not started yet are dropped; the next run writes them.
        pool.shutdown(cancel_futures=True)
