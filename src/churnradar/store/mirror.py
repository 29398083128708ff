"""The Parquet mirror of the customer and event tables, which analytics reads with DuckDB.

``refresh_mirror`` brings a mirror folder up to date with the database. The first refresh (or
``full=True``) reads every mirrored table; later ones read only what changed since the last
watermark, found through the ``updated_at`` indexes and the ``deleted_rows`` table that the
triggers of migration 0002 fill (raw SQL and foreign-key cascades included), and rewrite only
the month partitions that hold those rows before or after the change.

Incremental refresh, per table, with ``since = watermark - lookback``:

1. read the rows written since ``since``, and the ids deleted since then (a deleted id that
   exists again is read too);
2. look those ids up in the mirror with DuckDB (id, updated_at and file only); rows whose
   ``updated_at`` is already mirrored are skipped, so re-reading the look-back window is free;
3. rewrite each file that holds a replaced or deleted id, or that the new rows belong to:
   its old rows minus those ids, plus its new rows; hard-link every other file.

A table whose window holds more than a quarter of its rows (and at least 500,000) is rebuilt
instead, as is one whose columns changed. The look-back covers writers whose transaction
committed after the previous refresh read the database although their ``updated_at`` was
earlier: make it longer than the longest writing transaction (a bulk load included), or
refresh with ``full=True`` after one. What the mirror relies on from writers: an insert
stamps ``updated_at`` with the current time (the ORM and ``store.bulk`` do; raw SQL must),
nobody moves ``updated_at`` backwards, and ``TRUNCATE`` (which fires no trigger) is followed
by a full refresh. One mirror per database: a refresh purges the deletions it no longer needs.
Layout, atomic replacement and the empty-table file are described in ``mirror_files``.

Money is ``decimal128(14, 2)``, exact like the database; DuckDB reads it as DECIMAL(14,2).
Times are UTC microsecond timestamps; event tables are partitioned by the UTC month.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Engine

from churnradar.errors import NotFound
from churnradar.store.engine import safe_url
from churnradar.store.mirror_files import (
    EMPTY_PARTITION,
    SINGLE_FILE,
    MirrorState,
    PartitionedWriter,
    TableState,
    current_generation,
    keep_schema_file,
    link_file,
    merge_by_id,
    partition_file,
    prune,
    publish,
    read_file,
    read_state,
    split_by_month,
    start_generation,
    table_files,
    write_batches,
    write_file,
    write_state,
)
from churnradar.store.mirror_source import (
    MIRRORED_TABLES,
    TIME,
    MirroredTable,
    count_changed,
    database_now,
    purge_deletions,
    read_batches,
    read_changes,
    read_snapshot,
)

DEFAULT_LOOKBACK = timedelta(minutes=10)
# rows held in memory while a full refresh sorts an event table into month files
_BUFFER_ROWS = 1_000_000
# an incremental refresh that would re-read this much of a table rebuilds it instead
_REBUILD_SHARE = 0.25
_REBUILD_MIN_ROWS = 500_000


@dataclass(frozen=True)
class TableRefresh:
    """What one refresh did to one table. ``rows_written`` counts rows written from the
    database (all of them when ``full``), ``rows_removed`` mirrored rows dropped because
    they were deleted, ``partitions_rewritten`` the files written or removed, relative to the
    table folder (``month=2024-03/part.parquet``, or ``part.parquet`` for a small table)."""

    table: str
    full: bool
    rows_written: int
    rows_removed: int
    partitions_rewritten: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class MirrorReport:
    generation: Path
    watermark: datetime
    tables: dict[str, TableRefresh]
    seconds: float

    @property
    def full(self) -> bool:
        return all(table.full for table in self.tables.values())


def refresh_mirror(
    engine: Engine, directory: Path, *, full: bool = False, lookback: timedelta = DEFAULT_LOOKBACK
) -> MirrorReport:
    """Bring the mirror in ``directory`` up to date; incremental unless ``full`` or the
    mirror is missing, unreadable or from another schema (then per table). One refresh at a
    time per folder: the daily run is the one caller."""
    started = time.perf_counter()
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    previous = current_generation(directory)
    database = safe_url(engine.url)
    state = read_state(previous)
    if full or state.database != database:
        state = MirrorState()
    target = start_generation(directory, previous)
    refreshed: dict[str, TableRefresh] = {}
    tables: dict[str, TableState] = {}
    try:
        with read_snapshot(engine) as connection, _duckdb() as lookup:
            watermark = database_now(connection)
            for mirrored in MIRRORED_TABLES:
                known = state.tables.get(mirrored.name)
                if previous is None or _needs_rebuild(
                    connection, mirrored, known, lookback, previous / mirrored.name
                ):
                    refresh, rows = _rebuild(connection, mirrored, target)
                else:
                    assert known is not None
                    refresh, rows = _update(
                        connection,
                        lookup,
                        mirrored,
                        previous=previous,
                        target=target,
                        known=known,
                        lookback=lookback,
                    )
                refreshed[mirrored.name] = refresh
                tables[mirrored.name] = TableState(watermark, mirrored.fingerprint, rows)
        write_state(target, MirrorState(database, tables))
        publish(directory, target)
    except BaseException:
        prune(directory, keep=[previous])
        raise
    prune(directory, keep=[target, previous])
    purge_deletions(engine, before=watermark - lookback)
    return MirrorReport(target, watermark, refreshed, time.perf_counter() - started)


def mirror_paths(directory: Path) -> dict[str, str]:
    """Table name -> a glob of its current Parquet files, for DuckDB's or Ibis's
    ``read_parquet``. Resolve the paths again for each run: a generation is deleted by the
    refresh after the one that replaced it."""
    generation = current_generation(directory.resolve())
    if generation is None:
        raise NotFound("mirror.missing", path=str(directory))
    return {
        mirrored.name: (
            generation
            / mirrored.name
            / ("month=*/*.parquet" if mirrored.partitioned else SINGLE_FILE)
        ).as_posix()
        for mirrored in MIRRORED_TABLES
    }


def mirror_connection(directory: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per mirrored table (session time zone
    UTC). Its views keep reading the generation current when it was made."""
    connection = _connect()
    for name, glob in mirror_paths(directory).items():
        literal = glob.replace("'", "''")
        connection.execute(
            f"CREATE VIEW {name} AS"
            f" SELECT * FROM read_parquet('{literal}', hive_partitioning = false)"
        )
    return connection


def _connect() -> duckdb.DuckDBPyConnection:
    # Parquet support is built into the duckdb package; nothing is ever downloaded.
    connection = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    connection.execute("SET TimeZone = 'UTC'")
    return connection


@contextmanager
def _duckdb() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = _connect()
    try:
        yield connection
    finally:
        connection.close()


def _needs_rebuild(
    connection: Connection,
    mirrored: MirroredTable,
    known: TableState | None,
    lookback: timedelta,
    folder: Path,
) -> bool:
    if known is None or known.fingerprint != mirrored.fingerprint or not folder.is_dir():
        return True
    changed = count_changed(connection, mirrored, known.watermark - lookback)
    return changed > max(_REBUILD_MIN_ROWS, known.rows * _REBUILD_SHARE)


def _rebuild(
    connection: Connection, mirrored: MirroredTable, target: Path
) -> tuple[TableRefresh, int]:
    started = time.perf_counter()
    folder = target / mirrored.name
    batches = read_batches(connection, mirrored)
    if mirrored.time_column is None:
        rows = write_batches(folder / SINGLE_FILE, mirrored.schema, batches)
        files = [SINGLE_FILE]
    else:
        with PartitionedWriter(
            folder, mirrored.schema, mirrored.time_column, buffer_rows=_BUFFER_ROWS
        ) as writer:
            for batch in batches:
                writer.write(batch)
            files = writer.close()
        rows = writer.rows
        keep_schema_file(folder, mirrored.schema)
    refresh = TableRefresh(
        mirrored.name, True, rows, 0, tuple(files), time.perf_counter() - started
    )
    return refresh, rows


def _update(
    connection: Connection,
    lookup: duckdb.DuckDBPyConnection,
    mirrored: MirroredTable,
    *,
    previous: Path,
    target: Path,
    known: TableState,
    lookback: timedelta,
) -> tuple[TableRefresh, int]:
    started = time.perf_counter()
    source, folder = previous / mirrored.name, target / mirrored.name
    changes = read_changes(connection, mirrored, known.watermark - lookback)
    files = table_files(source)
    mirrored_rows = _mirrored_versions(
        lookup,
        source,
        files,
        pa.concat_arrays([changes.rows["id"].combine_chunks(), changes.gone_ids]),
    )
    written = changes.rows.join(
        mirrored_rows.select(["id", "updated_at"]),
        keys=["id", "updated_at"],
        join_type="left anti",
    ).select(mirrored.schema.names)
    replaced_ids = pa.concat_arrays([written["id"].combine_chunks(), changes.gone_ids])
    stale = mirrored_rows.filter(pc.is_in(mirrored_rows["id"], value_set=replaced_ids))
    fresh = _by_file(mirrored, written)
    touched = sorted(set(pc.unique(stale["file"]).to_pylist()) | set(fresh))
    for file in files:
        if file not in touched and file != EMPTY_PARTITION:
            link_file(source / file, folder / file)

    def rewrite(file: str) -> None:
        """The file's old rows without the replaced ids, and its new rows, by id."""
        kept = mirrored.schema.empty_table()
        if file in files:
            old = read_file(source / file)
            kept = old.filter(pc.invert(pc.is_in(old["id"], value_set=replaced_ids)))
        merged = merge_by_id(kept, fresh.get(file, mirrored.schema.empty_table()))
        if merged.num_rows or not mirrored.partitioned:
            write_file(folder / file, merged)

    # Arrow reads and writes Parquet without holding the GIL
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        list(pool.map(rewrite, touched))
    if mirrored.partitioned:
        keep_schema_file(folder, mirrored.schema)
    else:
        folder.mkdir(parents=True, exist_ok=True)
    removed = pc.sum(pc.is_in(stale["id"], value_set=changes.gone_ids)).as_py() or 0
    refresh = TableRefresh(
        mirrored.name,
        False,
        written.num_rows,
        removed,
        tuple(touched),
        time.perf_counter() - started,
    )
    return refresh, known.rows - stale.num_rows + written.num_rows


def _by_file(mirrored: MirroredTable, rows: pa.Table) -> dict[str, pa.Table]:
    if mirrored.time_column is None:
        return {SINGLE_FILE: rows} if rows.num_rows else {}
    return {
        partition_file(month): part
        for month, part in split_by_month(rows, mirrored.time_column).items()
    }


_VERSIONS = pa.schema([("id", pa.int64()), ("updated_at", TIME), ("file", pa.string())])


def _mirrored_versions(
    lookup: duckdb.DuckDBPyConnection, folder: Path, files: list[str], ids: pa.Array
) -> pa.Table:
    """Id, updated_at and file (relative to ``folder``) of the mirrored rows with these ids;
    DuckDB reads only the id and updated_at columns."""
    if not files or len(ids) == 0:
        return _VERSIONS.empty_table()
    lookup.register("probe", pa.table({"id": ids}))
    try:
        found = lookup.sql(
            "SELECT id, updated_at, substr(filename, $start) AS file"
            " FROM read_parquet($files, filename = true)"
            " WHERE id IN (SELECT id FROM probe)",
            params={
                "files": [(folder / file).as_posix() for file in files],
                "start": len(folder.as_posix()) + 2,
            },
        ).to_arrow_table()
    finally:
        lookup.unregister("probe")
    found = found.cast(_VERSIONS)
    if found.num_rows and not pc.all(pc.is_in(found["file"], value_set=pa.array(files))).as_py():
        raise RuntimeError(f"DuckDB named files outside {folder}: {found['file']}")
    return found
