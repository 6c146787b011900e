"""The import loop: header, then chunks of rows cleaned, checked, classified and written.

Memory stays flat: a chunk at a time, plus the ids seen so far (to refuse an id that appears
twice in a file, however far apart). A dry run does everything but write.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.imports.chunks import ImportContext, ParsedRow, Plan, Refusal
from crm.imports.cleaning import is_blank
from crm.imports.kinds import kind_import
from crm.imports.mapping import Header, fields_of, header_find
from crm.imports.prefetch import Prefetch
from crm.imports.reading import Row, TableFile

REQUIRED = _("This column is required.")


@dataclass
class ChunkOutcome:
    rows: int
    created: int
    updated: int
    unchanged: int
    refused: int
    refusals: list[Refusal]
    differing: list[int]


@dataclass
class Totals:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0
    differing: int = 0
    differing_rows: list[int] = field(default_factory=list)

    def add(self, outcome: ChunkOutcome) -> None:
        self.rows_read += outcome.rows
        self.created += outcome.created
        self.updated += outcome.updated
        self.unchanged += outcome.unchanged
        self.refused += outcome.refused
        self.differing += len(outcome.differing)
        self.differing_rows += outcome.differing[: max(0, 10 - len(self.differing_rows))]


@dataclass
class RunResult:
    header: Header
    is_truncated: bool  # stopped at max_rows with rows left


def import_rows(
    table: TableFile,
    *,
    kind: str,
    source: str,
    actor: AbstractUser | None,
    change_reason: str,
    chunk_size: int,
    on_chunk: Callable[[ChunkOutcome], None],
    dry_run: bool = False,
    skip_rows: int = 0,
    max_rows: int | None = None,
) -> RunResult:
    """Import a file's rows. `on_chunk` runs once per chunk, inside the chunk's transaction
    unless this is a dry run. The first `skip_rows` data rows were imported by an earlier run:
    they are read only for their ids."""
    header, rows = header_find(table.rows(), kind=kind, source=source)
    context = ImportContext(
        kind=kind,
        source=source,
        actor=actor,
        header=header,
        started_at=timezone.now(),
        change_reason=change_reason,
        dry_run=dry_run,
    )
    importer = kind_import(context)
    parser = _RowParser(context, importer)
    parsed_chunks = _ParsedChunks(rows, parser, chunk_size, skip_rows, max_rows)
    # Reading and cleaning (Python) run in a thread while this one waits on the database:
    # the database driver lets go of the GIL while it waits.
    prefetch = Prefetch(parsed_chunks)
    try:
        for rows_in_chunk, parsed, refusals in prefetch:
            plan = importer.plan(parsed)
            outcome = _outcome(rows_in_chunk, plan, refusals)
            if dry_run:
                on_chunk(outcome)
                continue
            with transaction.atomic():
                importer.write(plan)
                on_chunk(outcome)
    finally:
        prefetch.close()  # the reader is done with the file before the caller closes it
    return RunResult(header=header, is_truncated=parsed_chunks.is_truncated)


class _ParsedChunks:
    """The data rows of a file, cleaned, in chunks: (rows read, good rows, refusals)."""

    def __init__(self, rows, parser, chunk_size: int, skip_rows: int, max_rows: int | None):
        self.rows, self.parser = rows, parser
        self.chunk_size, self.skip_rows, self.max_rows = chunk_size, skip_rows, max_rows
        self.is_truncated = False

    def __iter__(self) -> Iterator[tuple[int, list[ParsedRow], list[Refusal]]]:
        chunk: list[tuple[int, Row]] = []
        data_rows = 0
        try:
            for number, cells in _data_rows(self.rows):
                data_rows += 1
                if data_rows <= self.skip_rows:
                    self.parser.remember(number, cells)
                    continue
                if self.max_rows is not None and data_rows > self.max_rows:
                    self.is_truncated = True
                    break
                chunk.append((number, cells))
                if len(chunk) >= self.chunk_size:
                    yield len(chunk), *self.parser.parse(chunk)
                    chunk = []
            if chunk:
                yield len(chunk), *self.parser.parse(chunk)
        finally:
            self.rows.close()  # in the thread that reads, while the file is open


def _data_rows(rows: Iterator[tuple[int, Row]]) -> Iterator[tuple[int, Row]]:
    for number, cells in rows:
        if not all(is_blank(cell) for cell in cells):
            yield number, cells


def _outcome(rows: int, plan: Plan, refusals: list[Refusal]) -> ChunkOutcome:
    all_refusals = sorted(refusals + plan.refusals, key=lambda refusal: refusal.row_number)
    return ChunkOutcome(
        rows=rows,
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=plan.unchanged,
        refused=len({refusal.row_number for refusal in all_refusals}),
        refusals=all_refusals,
        differing=plan.differing,
    )


class _RowParser:
    """Cells to cleaned values, each bad cell a refusal; and the ids seen, for duplicates."""

    def __init__(self, context: ImportContext, importer) -> None:
        self.context = context
        self.importer = importer
        specs = {item.name: item for item in fields_of(context.kind)}
        self.columns = [
            (name, column, specs[name].clean, specs[name].required)
            for name, column in context.header.columns.items()
        ]
        self.seen: dict[Any, int] = {}

    def parse(self, chunk: list[tuple[int, Row]]) -> tuple[list[ParsedRow], list[Refusal]]:
        parsed, refusals = [], []
        for number, cells in chunk:
            row, row_refusals = self._row(number, cells)
            key = self.importer.key(row.values)
            if key is not None:
                first = self.seen.setdefault(key, number)
                if first != number:
                    reason = self.importer.duplicate_reason % {"row": first}
                    name = self.importer.key_fields[0]
                    row_refusals.append(self.context.refusal(row, name, reason))
            if not row_refusals:
                row_refusals = [
                    self.context.refusal(row, name, reason)
                    for name, reason in self.importer.complete(row)
                ]
            if row_refusals:
                refusals += row_refusals
            else:
                parsed.append(row)
        return parsed, refusals

    def remember(self, number: int, cells: Row) -> None:
        row, _refusals = self._row(number, cells)
        key = self.importer.key(row.values)
        if key is not None:
            self.seen.setdefault(key, number)

    def _row(self, number: int, cells: Row) -> tuple[ParsedRow, list[Refusal]]:
        values: dict[str, Any] = {}
        row = ParsedRow(number=number, cells=cells, values=values)
        refusals = []
        width = len(cells)
        for name, column, clean, required in self.columns:
            cell = cells[column] if column < width else None
            if cell is None or cell == "" or (isinstance(cell, str) and cell.isspace()):
                if required:
                    refusals.append(self.context.refusal(row, name, REQUIRED, value=""))
                continue
            try:
                values[name] = clean(cell)
            except ValueError as error:
                refusals.append(self.context.refusal(row, name, error.args[0]))
        return row, refusals
