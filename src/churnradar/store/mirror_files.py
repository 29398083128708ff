"""The files side of the Parquet mirror: generations, the state file, partitions.

A mirror folder holds numbered generations and a pointer naming the current one::

    CURRENT                                   "gen-000042" (replaced atomically)
    gen-000042/_state.json                    watermark, schema fingerprint, rows per table
    gen-000042/customers/part.parquet         a small table: one file
    gen-000042/orders/month=2024-03/part.parquet   an event table: one file per UTC month

A refresh builds the next generation beside the current one, hard-linking the files it does
not change, and then replaces the pointer: readers see the old mirror or the new one, never a
mix, and a reader that resolved the old paths keeps reading them until the generation after
next is built. An event table with no rows keeps one empty file in Hive's null partition,
``month=__HIVE_DEFAULT_PARTITION__``, so its glob always matches a file with the schema.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

POINTER = "CURRENT"
STATE = "_state.json"
SINGLE_FILE = "part.parquet"
EMPTY_PARTITION = "month=__HIVE_DEFAULT_PARTITION__/part.parquet"
_GENERATION = re.compile(r"gen-(\d{6,})")
_STATE_VERSION = 1
_COMPRESSION = "zstd"
_ROW_GROUP_ROWS = 128 * 1024


def partition_file(month: str) -> str:
    return f"month={month}/{SINGLE_FILE}"


# --- generations -------------------------------------------------------------------------


def current_generation(directory: Path) -> Path | None:
    """The folder of the current generation, or None when there is no usable mirror."""
    try:
        name = (directory / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    folder = directory / name
    return folder if _GENERATION.fullmatch(name) and folder.is_dir() else None


def start_generation(directory: Path, previous: Path | None) -> Path:
    """An empty folder for the generation after ``previous`` (a crashed attempt's is cleared)."""
    match = _GENERATION.fullmatch(previous.name) if previous else None
    number = int(match[1]) + 1 if match else 1
    folder = directory / f"gen-{number:06d}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def publish(directory: Path, generation: Path) -> None:
    """Make ``generation`` the current one, atomically."""
    _write_atomically(directory / POINTER, generation.name)


def prune(directory: Path, keep: Iterable[Path | None]) -> None:
    """Delete the generations not in ``keep`` (only folders this module names)."""
    kept = {folder.name for folder in keep if folder is not None}
    for folder in directory.iterdir():
        if _GENERATION.fullmatch(folder.name) and folder.name not in kept and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


# --- state -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableState:
    watermark: datetime
    fingerprint: str
    rows: int


@dataclass(frozen=True)
class MirrorState:
    """``database`` names the database mirrored (its URL without password): a mirror
    folder pointed at another database is rebuilt rather than patched."""

    database: str = ""
    tables: dict[str, TableState] = field(default_factory=dict)


def read_state(generation: Path | None) -> MirrorState:
    """The generation's state; empty (everything is rebuilt) when missing or unreadable."""
    if generation is None:
        return MirrorState()
    try:
        document = json.loads((generation / STATE).read_text(encoding="utf-8"))
        if document.get("version") != _STATE_VERSION:
            return MirrorState()
        return MirrorState(
            str(document["database"]),
            {
                name: TableState(
                    watermark=datetime.fromisoformat(entry["watermark"]),
                    fingerprint=entry["fingerprint"],
                    rows=int(entry["rows"]),
                )
                for name, entry in document["tables"].items()
            },
        )
    except (OSError, ValueError, KeyError, TypeError):
        return MirrorState()


def write_state(generation: Path, state: MirrorState) -> None:
    document = {
        "version": _STATE_VERSION,
        "database": state.database,
        "tables": {
            name: {
                "watermark": entry.watermark.isoformat(),
                "fingerprint": entry.fingerprint,
                "rows": entry.rows,
            }
            for name, entry in sorted(state.tables.items())
        },
    }
    _write_atomically(generation / STATE, json.dumps(document, indent=2))


# --- files -------------------------------------------------------------------------------


def table_files(folder: Path) -> list[str]:
    """The Parquet files of a table folder, as paths relative to it."""
    if not folder.is_dir():
        return []
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.parquet"))


def link_file(source: Path, target: Path) -> None:
    """Share an unchanged file with the next generation (a copy where links are unsupported)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def read_file(path: Path) -> pa.Table:
    return pq.ParquetFile(path).read()


def write_file(path: Path, table: pa.Table) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression=_COMPRESSION, row_group_size=_ROW_GROUP_ROWS)


def merge_by_id(kept: pa.Table, added: pa.Table) -> pa.Table:
    """The rows of both in id order. ``kept`` comes from a mirror file, already in id order,
    so in the usual case (new rows with higher ids) nothing needs sorting."""
    added = added.sort_by("id")
    merged = pa.concat_tables([kept, added])
    if kept.num_rows and added.num_rows:
        last, first = pc.max(kept["id"]).as_py(), pc.min(added["id"]).as_py()
        if last > first:
            return merged.sort_by("id")
    return merged


def split_by_month(table: pa.Table, time_column: str) -> dict[str, pa.Table]:
    """The rows of each UTC month of ``time_column`` ("YYYY-MM"), keeping their order."""
    if table.num_rows == 0:
        return {}
    micros = table[time_column].cast(pa.int64()).to_numpy()
    months, inverse = np.unique(
        micros.astype("datetime64[us]").astype("datetime64[M]"), return_inverse=True
    )
    order = np.argsort(inverse, kind="stable")
    ends = np.cumsum(np.bincount(inverse, minlength=len(months)))
    ordered = table.take(pa.array(order))
    labels = np.datetime_as_string(months, unit="M")
    starts = np.concatenate([[0], ends[:-1]])
    return {
        str(label): ordered.slice(int(start), int(end - start))
        for label, start, end in zip(labels, starts, ends, strict=True)
    }


class PartitionedWriter:
    """Writes a stream of batches to one file per month with bounded memory.

    Rows wait in per-month buffers; when more than ``buffer_rows`` wait in all, the largest
    buffer is written out as a row group of its month's file.
    """

    def __init__(
        self, folder: Path, schema: pa.Schema, time_column: str, *, buffer_rows: int
    ) -> None:
        self._folder = folder
        self._schema = schema
        self._time_column = time_column
        self._buffer_rows = buffer_rows
        self._buffers: dict[str, list[pa.Table]] = {}
        self._buffered: dict[str, int] = {}
        self._writers: dict[str, pq.ParquetWriter] = {}
        self.rows = 0

    def __enter__(self) -> PartitionedWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for writer in self._writers.values():
            writer.close()

    def write(self, batch: pa.RecordBatch) -> None:
        self.rows += batch.num_rows
        for month, rows in split_by_month(
            pa.Table.from_batches([batch]), self._time_column
        ).items():
            self._buffers.setdefault(month, []).append(rows)
            self._buffered[month] = self._buffered.get(month, 0) + rows.num_rows
        while sum(self._buffered.values()) > self._buffer_rows:
            self._flush(max(self._buffered, key=self._buffered.__getitem__))

    def close(self) -> list[str]:
        """Write what is left; returns the files written, relative to the folder."""
        for month in list(self._buffered):
            self._flush(month)
        for writer in self._writers.values():
            writer.close()
        files = sorted(partition_file(month) for month in self._writers)
        self._writers.clear()
        return files

    def _flush(self, month: str) -> None:
        rows = pa.concat_tables(self._buffers.pop(month))
        del self._buffered[month]
        writer = self._writers.get(month)
        if writer is None:
            path = self._folder / partition_file(month)
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = pq.ParquetWriter(path, self._schema, compression=_COMPRESSION)
            self._writers[month] = writer
        writer.write_table(rows, row_group_size=_ROW_GROUP_ROWS)


def write_batches(path: Path, schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> int:
    """Stream batches into one file (each a row group); returns the rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with pq.ParquetWriter(path, schema, compression=_COMPRESSION) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def keep_schema_file(folder: Path, schema: pa.Schema) -> None:
    """Give a partitioned table without rows its one empty file in the null partition."""
    if not any(file != EMPTY_PARTITION for file in table_files(folder)):
        write_file(folder / EMPTY_PARTITION, schema.empty_table())
