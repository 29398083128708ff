"""Importing a file: read it in chunks, validate, stage, merge, record the batch.

The whole import is one transaction. A forked reader process reads and validates the file a
chunk ahead; this process stages each chunk's valid rows and merges them, so a crash or a kill
half-way leaves the database exactly as before; rejected rows go to a file beside the batch
record, with their reason, for the user to fix and import again.
With ``all_or_nothing`` a single rejected row keeps the whole file out; ``dry_run`` validates
and counts what would change without keeping anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine

from churnradar.config import Settings
from churnradar.errors import InvalidInput, Problem
from churnradar.i18n import translate
from churnradar.ingest.fields import Kind
from churnradar.ingest.headers import HeaderIndex, HeaderMapping, choose_columns
from churnradar.ingest.kinds import KIND_ALIASES, KINDS
from churnradar.ingest.problems import as_problems, reasons
from churnradar.ingest.readers import Layout, RawChunk, open_source
from churnradar.ingest.references import CustomerDirectory, KeyDirectory, UserDirectory
from churnradar.ingest.rejects import RejectedRowsWriter
from churnradar.ingest.validate import ChunkResult, Directories, ImportOptions, RowValidator
from churnradar.store.directory import customer_keys, subscription_keys, user_keys
from churnradar.store.import_batches import record_import_batch, user_id
from churnradar.store.staging import MergeCounts, Stage
from churnradar.store.types import utcnow
from churnradar.workflow.background import ahead_in_process

KEPT_PROBLEMS = 1000  # problems kept in the batch record; the rejected file has them all


@dataclass(frozen=True)
class ImportRequest:
    kind: str
    path: Path
    sheet: str | None = None
    encoding: str | None = None
    mapping: Mapping[str, str | None] | None = None
    all_or_nothing: bool = False
    create_customers: bool = False
    create_owners: bool = False
    dry_run: bool = False
    by: str | None = None  # the user name of who imports
    chunk_rows: int = 100_000


@dataclass
class ImportReport:
    kind: str
    file: str
    status: str  # succeeded | partial | rejected | dry_run
    layout: Layout
    mapping: HeaderMapping
    read: int = 0
    rejected: int = 0
    counts: dict[str, MergeCounts] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rejected_file: Path | None = None
    batch_id: int | None = None

    @property
    def accepted(self) -> int:
        return self.read - self.rejected


def import_kind(name: str) -> Kind:
    """The kind a user named (``orders``, ``follow-ups``), or a message listing the kinds."""
    key = KIND_ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in KINDS:
        raise InvalidInput("ingest.unknown_kind", kind=name, kinds=", ".join(KINDS))
    return KINDS[key]


def import_file(
    engine: Engine,
    settings: Settings,
    request: ImportRequest,
    *,
    on_chunk: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import ``request.path``; the report says what changed and what was rejected."""
    kind = import_kind(request.kind)
    started = utcnow()
    with open_source(
        request.path, score=HeaderIndex(kind).score, sheet=request.sheet, encoding=request.encoding
    ) as source:
        mapping = choose_columns(
            kind, source.layout.headers, source.layout.parents, request.mapping
        )
        report = ImportReport(kind.name, request.path.name, "succeeded", source.layout, mapping)
        rejects = _rejects_path(settings, kind, started, request.path)
        options = ImportOptions(
            zone=settings.zone,
            currency=settings.currency,
            now=started,
            create_customers=request.create_customers,
            create_owners=request.create_owners,
        )
        with engine.connect() as connection:
            transaction = connection.begin()
            try:
                with Stage(connection) as stage:
                    created_by = _importer(connection, request.by)
                    validator = RowValidator(kind, mapping, options, _directories(connection))
                    with RejectedRowsWriter(
                        rejects,
                        source.layout,
                        reason_header=translate("ingest.rejects.reason", settings.locale),
                        row_header=translate("ingest.rejects.row", settings.locale),
                    ) as writer:
                        validated = ahead_in_process(
                            _checked(validator, chunk)
                            for chunk in source.chunks(request.chunk_rows)
                        )
                        for chunk, result, size in validated:
                            _stage(stage, result)
                            stage.flush()
                            _reject(writer, chunk, result, report, settings.locale)
                            report.read += size
                            if on_chunk is not None:
                                on_chunk(report.read)
                    report.rejected_file = rejects if writer.count else None
                    report.counts = {kind.table: MergeCounts(), **stage.finish()}
                report.status = _status(request, report)
                if report.status == "rejected":  # nothing is kept: nothing was written
                    report.counts = {kind.table: MergeCounts()}
                if report.status in {"succeeded", "partial"}:
                    report.batch_id = _record(connection, request, report, created_by, started)
                    transaction.commit()
                else:
                    transaction.rollback()
            except BaseException:
                transaction.rollback()
                rejects.unlink(missing_ok=True)
                raise
        if report.status == "rejected":
            # nothing of the file is kept, but the attempt is: who tried, and why it failed
            with engine.begin() as connection:
                report.batch_id = _record(connection, request, report, created_by, started)
    return report


def _directories(connection: Connection) -> Directories:
    return Directories(
        customers=CustomerDirectory(customer_keys(connection)),
        users=UserDirectory(user_keys(connection)),
        subscriptions=KeyDirectory(subscription_keys(connection)),
    )


def _importer(connection: Connection, username: str | None) -> int | None:
    if username is None:
        return None
    found = user_id(connection, username)
    if found is None:
        raise InvalidInput("ingest.unknown_importer", user=username)
    return found


def _checked(validator: RowValidator, chunk: RawChunk) -> tuple[RawChunk, ChunkResult, int]:
    """A chunk's validation, with only its rejected rows kept (for the rejected file) and
    its size: what crosses from the reading process to this one is kept small."""
    result = validator.validate(chunk)
    positions = np.flatnonzero(result.rejected)
    return RawChunk(chunk.frame.iloc[positions], chunk.rows[positions]), result, len(chunk.rows)


def _stage(stage: Stage, result: ChunkResult) -> None:
    for table, frame, upsert in result.frames:
        stage.append(table, frame, upsert=upsert)


def _reject(
    writer: RejectedRowsWriter,
    chunk: RawChunk,
    result: ChunkResult,
    report: ImportReport,
    locale: str,
) -> None:
    """Write the rejected rows (``chunk`` holds only them) with their reasons."""
    positions = np.flatnonzero(result.rejected)
    if not len(positions):
        return
    report.rejected += len(positions)
    why = reasons(result.problems, locale)
    writer.write(chunk.frame, chunk.rows, why.reindex(positions).fillna("").tolist())
    room = KEPT_PROBLEMS - len(report.problems)
    if room > 0:
        report.problems.extend(as_problems(result.problems.head(room)))


def _status(request: ImportRequest, report: ImportReport) -> str:
    if request.dry_run:
        return "dry_run"
    if report.rejected and request.all_or_nothing:
        return "rejected"
    return "partial" if report.rejected else "succeeded"


def _record(
    connection: Connection,
    request: ImportRequest,
    report: ImportReport,
    created_by: int | None,
    started: datetime,
) -> int:
    counts: dict[str, int] = {"read": report.read, "rejected": report.rejected}
    for table, merged in report.counts.items():
        counts[f"{table}.inserted"] = merged.inserted
        counts[f"{table}.updated"] = merged.updated
        counts[f"{table}.unchanged"] = merged.unchanged
    kept: list[dict[str, Any]] = [
        {"row": p.row, "column": p.column, "code": p.code, "params": p.params}
        for p in report.problems
    ]
    return record_import_batch(
        connection,
        kind=import_kind(request.kind).table,
        file_name=str(request.path.name),
        file_sha256=_sha256(request.path),
        status=report.status,
        counts=counts,
        mapping=report.mapping.as_dict(),
        rejected_rows=kept,
        rejected_file=str(report.rejected_file) if report.rejected_file else None,
        created_by=created_by,
        created_at=started,
        finished_at=utcnow(),
    )


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _rejects_path(settings: Settings, kind: Kind, started: datetime, source: Path) -> Path:
    """Under the data folder, named for the time and kind of the import: a workbook for an
    Excel file (dates stay dates, long numbers keep their digits), else a CSV in UTF-8 with
    BOM, which Excel opens as is."""
    folder = Path(settings.data_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".xlsx" if source.suffix.lower() in {".xlsx", ".xlsm", ".xls"} else ".csv"
    return folder / f"{started:%Y%m%d-%H%M%S-%f}-{kind.name}-rejected{suffix}"


__all__ = ["ImportReport", "ImportRequest", "import_file", "import_kind"]
