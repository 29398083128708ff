"""How bulk-loaded rows reach each backend: column encoding and one writer per database.

Columns become Arrow arrays, one vectorised function per kind of column. Timestamps become
naive UTC ``timestamp[us]``, which Arrow renders as ``YYYY-MM-DD HH:MM:SS.ffffff``: both
SQLAlchemy's SQLite format and a PostgreSQL literal in a UTC session. Money becomes float64
rounded to cents; enum values are checked against the column's allowed values.

The SQLite writer binds the arrays through ``executemany``; the PostgreSQL writer streams them
as CSV into ``COPY ... FROM STDIN``. Into an empty table, both first set aside what makes
each row expensive (the non-unique indexes and, on PostgreSQL, the foreign keys) and rebuild
it in one pass after the load, in the same transaction, as ``pg_restore`` does.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import Enum as PyEnum
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
)

from churnradar.errors import ConfigurationError
from churnradar.store.tables import metadata
from churnradar.store.types import UtcDateTime

TIMESTAMP = pa.timestamp("us")


class ColumnError(ValueError):
    """A column whose values cannot be stored; ``column`` names it, the message says why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def constant(value: Any, rows: int) -> pd.Series:
    """``value`` repeated ``rows`` times: how a column default fills a missing column."""
    if isinstance(value, PyEnum):
        value = value.value
    if isinstance(value, list | dict):
        data = np.empty(rows, dtype=object)
        data.fill(value)
        return pd.Series(data)
    return pd.Series(value, index=pd.RangeIndex(rows))


def encode(series: pd.Series, column: Column[Any]) -> pa.Array:
    """The column's values as an Arrow array, or :class:`ColumnError` saying what is wrong."""
    encoder = _encoder(column)
    try:
        return encoder(series, column)
    except (ValueError, TypeError, OverflowError, pa.ArrowException) as exc:
        if isinstance(exc, ColumnError):
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ColumnError(column.name, reason) from exc


def _encoder(column: Column[Any]) -> Callable[[pd.Series, Column[Any]], pa.Array]:
    kind = column.type
    # order matters: Float is a Numeric, Enum is a String
    checks: list[tuple[type[Any] | tuple[type[Any], ...], Callable[..., pa.Array]]] = [
        ((UtcDateTime, DateTime), _timestamps),
        (Date, _dates),
        (JSON, _json),
        (Boolean, _booleans),
        (Integer, _integers),
        (Float, _floats),
        (Numeric, _money),
        (LargeBinary, _binary),
        (Enum, _enum_values),
        (String, _text),
    ]
    for types, encoder in checks:
        if isinstance(kind, types):
            return encoder
    raise ColumnError(column.name, f"bulk loading does not support the type {kind!r}")


def _all_missing(series: pd.Series) -> bool:
    return bool(series.isna().all())


def _timestamps(series: pd.Series, column: Column[Any]) -> pa.Array:
    if _all_missing(series):
        return pa.nulls(len(series), TIMESTAMP)
    if series.dtype == object:
        series = pd.to_datetime(series)
    if not isinstance(series.dtype, pd.DatetimeTZDtype):
        raise ColumnError(
            column.name,
            f"timestamps must be timezone-aware (UTC), got dtype {series.dtype}",
        )
    naive_utc = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return pa.array(naive_utc, from_pandas=True).cast(TIMESTAMP, safe=False)


def _dates(series: pd.Series, column: Column[Any]) -> pa.Array:
    if _all_missing(series):
        return pa.nulls(len(series), pa.date32())
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = pa.array(series, from_pandas=True)
    if pa.types.is_timestamp(values.type):
        values = values.cast(TIMESTAMP, safe=False)
    return values.cast(pa.date32())


def _json(series: pd.Series, column: Column[Any]) -> pa.Array:
    # JSON documents are arbitrary Python objects: there is no vectorised encoder, and only
    # the small operational tables (runs, rules, alerts, ...) have JSON columns.
    return pa.array(series.map(json.dumps, na_action="ignore"), type=pa.string(), from_pandas=True)


def _booleans(series: pd.Series, column: Column[Any]) -> pa.Array:
    return pa.array(series, type=pa.bool_(), from_pandas=True)  # refuses 0/1 and strings


def _integers(series: pd.Series, column: Column[Any]) -> pa.Array:
    if pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        present = values[~np.isnan(values)]
        if not np.array_equal(present, np.trunc(present)):
            raise ColumnError(column.name, "integers expected, found fractional numbers")
        series = series.astype("Int64")
    return pa.array(series, type=pa.int64(), from_pandas=True)


def _floats(series: pd.Series, column: Column[Any]) -> pa.Array:
    return pa.array(pd.to_numeric(series), type=pa.float64(), from_pandas=True)


def _money(series: pd.Series, column: Column[Any]) -> pa.Array:
    scale = getattr(column.type, "scale", None) or 2
    values = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
    return pa.array(np.round(values, scale), type=pa.float64(), from_pandas=True)


def _binary(series: pd.Series, column: Column[Any]) -> pa.Array:
    return pa.array(series, type=pa.binary(), from_pandas=True)


def _text(series: pd.Series, column: Column[Any]) -> pa.Array:
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    values = pa.array(series, type=pa.string(), from_pandas=True)
    # PostgreSQL enforces VARCHAR lengths and SQLite does not: check here for both
    limit = getattr(column.type, "length", None)
    longest = pc.max(pc.utf8_length(values)).as_py() if limit and len(values) else None
    if longest is not None and longest > limit:
        raise ColumnError(column.name, f"a value has {longest} characters, at most {limit} fit")
    return values


def _enum_values(series: pd.Series, column: Column[Any]) -> pa.Array:
    values = _text(series, column)
    allowed = pa.array(list(getattr(column.type, "enums", [])), type=pa.string())
    unknown = pc.filter(values, pc.invert(pc.is_in(values, value_set=allowed, skip_nulls=True)))
    unknown = pc.drop_null(unknown)
    if len(unknown):
        shown = ", ".join(repr(value) for value in pc.unique(unknown)[:5].to_pylist())
        raise ColumnError(
            column.name,
            f"unknown values {shown}; allowed: {', '.join(allowed.to_pylist())}",
        )
    return values


class Writer(ABC):
    """Writes one load into an open transaction of ``connection``."""

    chunk_rows = 50_000

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        driver = connection.connection.driver_connection
        assert driver is not None, "the connection has no driver connection"
        self.driver: Any = driver
        self.cursor: Any = driver.cursor()

    def quote(self, *names: str) -> str:
        return ", ".join(self.connection.dialect.identifier_preparer.quote(name) for name in names)

    def set_aside(self, table: Table, *, only_if_empty: bool = True) -> list[str]:
        """Drop what slows inserts into ``table`` (if it is empty, unless told otherwise);
        return the SQL to rebuild it."""
        return []

    @abstractmethod
    def insert(
        self, table: Table, columns: list[str], chunks: Iterable[list[pa.Array]]
    ) -> None: ...

    @abstractmethod
    def update(
        self, table: Table, column: str, key: str, keys: list[int], values: list[int]
    ) -> None:
        """Set ``column`` to ``values`` in the rows whose ``key`` is in ``keys``."""

    def rebuild(self, statements: list[str]) -> None:
        for statement in statements:
            self.cursor.execute(statement)

    def finish(self, tables: list[Table]) -> None:  # noqa: B027 - optional hook
        """Work after the last row is in, inside the transaction (nothing by default)."""

    @abstractmethod
    def clear(self, tables: list[Table]) -> None:
        """Delete every row of ``tables`` (parents first in the list), set-based."""

    def close(self) -> None:
        self.cursor.close()


class SqliteWriter(Writer):
    # Rebuilding the indexes of tens of millions of rows sorts in the page cache; SQLite's
    # default of 2 MB makes that an external merge sort on disk. The cache grows only as used.
    load_cache_kib = 1024 * 1024

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._cache_size = self.cursor.execute("PRAGMA cache_size").fetchone()[0]
        self.cursor.execute(f"PRAGMA cache_size = -{self.load_cache_kib}")
        # sqlite3 opens a transaction only before DML: open it now, so the dropped indexes are
        # part of it, and take the write lock at once
        if not self.driver.in_transaction:
            self.cursor.execute("BEGIN IMMEDIATE")

    def set_aside(self, table: Table, *, only_if_empty: bool = True) -> list[str]:
        if (
            only_if_empty
            and self.cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {self.quote(table.name)})"
            ).fetchone()[0]
        ):
            return []
        indexes = self.cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
            " AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'",
            (table.name,),
        ).fetchall()
        for name, _ in indexes:
            self.cursor.execute(f"DROP INDEX {self.quote(name)}")
        return [sql for _, sql in indexes]

    def insert(self, table: Table, columns: list[str], chunks: Iterable[list[pa.Array]]) -> None:
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {self.quote(table.name)} ({self.quote(*columns)}) VALUES ({marks})"
        for arrays in chunks:
            self.cursor.executemany(sql, zip(*map(_sqlite_values, arrays), strict=True))

    def update(
        self, table: Table, column: str, key: str, keys: list[int], values: list[int]
    ) -> None:
        name, column, key = self.quote(table.name), self.quote(column), self.quote(key)
        sql = f"UPDATE {name} SET {column} = ? WHERE {key} = ?"
        self.cursor.executemany(sql, zip(values, keys, strict=True))

    def close(self) -> None:
        self.cursor.execute(f"PRAGMA cache_size = {self._cache_size}")
        super().close()

    def clear(self, tables: list[Table]) -> None:
        # with foreign keys off (see foreign_keys_off) and no trigger, DELETE without WHERE is
        # SQLite's truncate optimisation: pages are dropped, rows are never visited
        names = [table.name for table in tables]
        triggers = self.cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
            f" AND tbl_name IN ({', '.join('?' for _ in names)})",
            names,
        ).fetchall()
        for trigger, _ in triggers:
            self.cursor.execute(f"DROP TRIGGER {self.quote(trigger)}")
        for table in reversed(tables):
            self.cursor.execute(f"DELETE FROM {self.quote(table.name)}")
        for _, sql in triggers:
            self.cursor.execute(sql)


class PostgresWriter(Writer):
    chunk_rows = 100_000
    _csv = pa_csv.WriteOptions(include_header=False)

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self.cursor.execute("SET LOCAL TIME ZONE 'UTC'")  # timestamps travel as naive UTC

    def set_aside(self, table: Table, *, only_if_empty: bool = True) -> list[str]:
        name = self.quote(table.name)
        if (
            only_if_empty
            and self.cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {name})").fetchone()[0]
        ):
            return []
        indexes = self.cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema() AND tablename = %s"
            " AND indexdef NOT LIKE 'CREATE UNIQUE%%'",
            (table.name,),
        ).fetchall()
        foreign_keys = self.cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = 'f'",
            (name,),
        ).fetchall()
        for index, _ in indexes:
            self.cursor.execute(f"DROP INDEX {self.quote(index)}")
        for constraint, _ in foreign_keys:
            self.cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {self.quote(constraint)}")
        return [sql for _, sql in indexes] + [
            f"ALTER TABLE {name} ADD CONSTRAINT {self.quote(constraint)} {definition}"
            for constraint, definition in foreign_keys
        ]

    def insert(self, table: Table, columns: list[str], chunks: Iterable[list[pa.Array]]) -> None:
        sql = f"COPY {self.quote(table.name)} ({self.quote(*columns)}) FROM STDIN (FORMAT csv)"
        with self.cursor.copy(sql) as copy:
            for arrays in chunks:
                batch = pa.RecordBatch.from_arrays(
                    list(map(_postgres_values, arrays)), names=columns
                )
                sink = pa.BufferOutputStream()
                pa_csv.write_csv(batch, sink, self._csv)
                copy.write(sink.getvalue().to_pybytes())

    def update(
        self, table: Table, column: str, key: str, keys: list[int], values: list[int]
    ) -> None:
        self.cursor.execute(
            f"UPDATE {self.quote(table.name)} AS t SET {self.quote(column)} = v.value"
            " FROM unnest(%s::bigint[], %s::bigint[]) AS v(key, value)"
            f" WHERE t.{self.quote(key)} = v.key",
            (keys, values),
        )

    def finish(self, tables: list[Table]) -> None:
        for table in tables:
            name, serial = self.quote(table.name), table.autoincrement_column
            if serial is not None:
                self.cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s),"
                    f" coalesce(max({self.quote(serial.name)}), 0) + 1, false) FROM {name}",
                    (table.name, serial.name),
                )
            # fresh statistics, or the planner takes the new rows for an empty table
            self.cursor.execute(f"ANALYZE {name}")

    def clear(self, tables: list[Table]) -> None:
        truncatable = _truncatable(tables)
        if truncatable:
            self.cursor.execute(f"TRUNCATE {self.quote(*(table.name for table in truncatable))}")
        rest = [table for table in tables if table not in truncatable]
        for table in rest:
            for fk in table.foreign_keys:
                if fk.use_alter and fk.column.table in rest:
                    column = self.quote(fk.parent.name)
                    self.cursor.execute(
                        f"UPDATE {self.quote(table.name)} SET {column} = NULL"
                        f" WHERE {column} IS NOT NULL"
                    )
        for table in reversed(rest):
            self.cursor.execute(f"DELETE FROM {self.quote(table.name)}")


def _truncatable(tables: list[Table]) -> list[Table]:
    """Those of ``tables`` no other table refers to: PostgreSQL refuses to TRUNCATE a table
    another table has a foreign key to, whatever the rows."""
    keep = set(tables)
    shrank = True
    while shrank:
        shrank = False
        for table in list(keep):
            referrers = {
                other
                for other in metadata.sorted_tables
                for fk in other.foreign_keys
                if fk.column.table is table
            }
            if not referrers <= keep:
                keep.discard(table)
                shrank = True
    return [table for table in tables if table in keep]


@contextmanager
def foreign_keys_off(connection: Connection) -> Iterator[None]:
    """On SQLite, stop enforcing foreign keys until the block ends; a no-op elsewhere.

    SQLite only switches this outside a transaction, so enter it before ``connection.begin()``.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
    connection.commit()
    try:
        yield
    finally:
        connection.rollback()
        connection.exec_driver_sql("PRAGMA foreign_keys = ON")
        connection.commit()


@contextmanager
def writer_for(connection: Connection) -> Iterator[Writer]:
    backend = connection.dialect.name
    writer: Writer
    if backend == "postgresql":
        writer = PostgresWriter(connection)
    elif backend == "sqlite":
        writer = SqliteWriter(connection)
    else:
        raise ConfigurationError("store.bulk.unsupported_backend", backend=backend)
    try:
        yield writer
    finally:
        writer.close()


def _sqlite_values(values: pa.Array) -> list[Any]:
    """Python values for ``sqlite3``: timestamps and dates as SQLAlchemy's SQLite text."""
    if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
        values = values.cast(pa.string())
    result: list[Any] = values.to_pylist()
    return result


def _postgres_values(values: pa.Array) -> pa.Array:
    """The array as PostgreSQL's CSV input reads it (``bytea`` in hex form)."""
    if pa.types.is_binary(values.type):
        # bytea only appears in model_versions (a handful of rows): a per-value map is fine
        return pa.array(
            [None if blob is None else "\\x" + blob.hex() for blob in values.to_pylist()],
            type=pa.string(),
        )
    return values
