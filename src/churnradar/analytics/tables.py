"""The event tables analytics reads, as Ibis tables. The only module here that connects.

Every analytics function takes an :class:`EventTables` and returns Ibis expressions; they run
where the tables live. :func:`open_mirror` binds them to the Parquet mirror through an
in-memory DuckDB (the default); :func:`event_tables` binds Arrow tables, which is what the
tests and the doctests use. Column names and types are the mirror's (``store.mirror_source``):
times are UTC timestamps, money is ``decimal(14, 2)``, enums are their lowercase codes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import ibis
import pyarrow as pa
from ibis.backends.duckdb import Backend as DuckDBBackend

from churnradar.store.mirror import mirror_paths
from churnradar.store.mirror_source import MIRRORED_TABLES

# Parquet support is built into the duckdb package: nothing is ever downloaded.
_DUCKDB_CONFIG: dict[str, object] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    # results are ordered where order matters (order_by); letting DuckDB emit rows in any
    # order saves memory and time on a million-row feature table
    "preserve_insertion_order": False,
}


@dataclass(frozen=True)
class EventTables:
    """The customer table and the tables of events around it.

    ``results`` holds intermediate results materialised on the backend (the churn episodes
    as of a date, for example), so a report asking ten questions computes them once.
    """

    customers: ibis.Table
    contacts: ibis.Table
    subscriptions: ibis.Table
    orders: ibis.Table
    interactions: ibis.Table
    tickets: ibis.Table
    surveys: ibis.Table
    churn_events: ibis.Table
    results: dict[tuple[object, ...], ibis.Table] = field(
        default_factory=dict, compare=False, repr=False
    )

    def materialised(self, key: tuple[object, ...], build: Callable[[], ibis.Table]) -> ibis.Table:
        """``build()`` computed once into a temporary table of the backend, by ``key``."""
        if key not in self.results:
            expression = build()
            # a temporary table of its own name: Ibis 12's cache() and overwrite=True drop
            # tables with SQL that DuckDB 2.0 rejects
            name = f"result_{uuid.uuid4().hex}"
            self.results[key] = ibis.get_backend(expression).create_table(
                name, expression, temp=True
            )
        return self.results[key]

    def release(self) -> None:
        """Drop every materialised result: a caller stepping through many dates frees each
        date's tables before the next."""
        for table in self.results.values():
            backend = ibis.get_backend(table)
            backend.raw_sql(f'DROP TABLE IF EXISTS "{table.get_name()}"')
        self.results.clear()


TABLE_NAMES: tuple[str, ...] = tuple(
    column.name for column in fields(EventTables) if column.name != "results"
)
SCHEMAS: dict[str, pa.Schema] = {mirrored.name: mirrored.schema for mirrored in MIRRORED_TABLES}


def connect(*, memory_limit: str | None = None, threads: int | None = None) -> DuckDBBackend:
    """An in-memory DuckDB backend with the session time zone UTC, never downloading."""
    config = dict(_DUCKDB_CONFIG)
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = str(threads)
    backend = ibis.duckdb.connect(**config)
    assert isinstance(backend, DuckDBBackend)
    backend.raw_sql("SET TimeZone = 'UTC'")
    return backend


def open_mirror(directory: Path, backend: DuckDBBackend | None = None) -> EventTables:
    """The tables of the mirror's current generation. Open again for each run: a
    generation is deleted by the refresh after the one that replaced it."""
    backend = backend or connect()
    paths = mirror_paths(directory)
    return EventTables(
        **{
            name: backend.read_parquet(
                paths[name], table_name=f"mirror_{name}", hive_partitioning=False
            )
            for name in TABLE_NAMES
        }
    )


def event_tables(data: Mapping[str, pa.Table], backend: DuckDBBackend | None = None) -> EventTables:
    """Arrow tables as event tables; a table not given is empty. Each is cast to the
    mirror's schema, so a test can give only the columns it cares about."""
    backend = backend or connect()
    unknown = set(data) - set(TABLE_NAMES)
    if unknown:
        raise ValueError(f"not event tables: {sorted(unknown)}")
    for name in TABLE_NAMES:
        # registered with DuckDB directly: Ibis 12's create_table from Arrow emits SQL that
        # DuckDB 2.0 rejects
        backend.con.register(f"given_{name}", conform(data.get(name), SCHEMAS[name]))
    return EventTables(**{name: backend.table(f"given_{name}") for name in TABLE_NAMES})


def conform(table: pa.Table | None, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly the columns of ``schema``: missing ones are null, types cast."""
    rows = 0 if table is None else table.num_rows
    columns = []
    for wanted in schema:
        if table is not None and wanted.name in table.column_names:
            columns.append(table[wanted.name].cast(wanted.type))
        else:
            columns.append(pa.nulls(rows, wanted.type))
    return pa.Table.from_arrays(columns, schema=schema)
