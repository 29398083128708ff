"""The database side of the Parquet mirror: which tables are mirrored, how their rows are read
into Arrow, and the deletions recorded by the triggers of migration 0002.

Rows are read in chunks on the driver's cursor (a named, server-side one on PostgreSQL;
SQLite's cursor is lazy anyway) and Arrow turns each chunk of row tuples into columns in one
call. Values cross the driver as plain ints, floats and strings, so no per-value Python runs
in SQLAlchemy or the driver: PostgreSQL sends times as epoch microseconds, SQLite its stored
text, which Arrow parses; money comes as float64 and is cast to decimal.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Engine,
    Float,
    Integer,
    Numeric,
    String,
    Table,
    cast,
    delete,
    extract,
    func,
    literal_column,
    select,
    type_coerce,
)

from churnradar.store.tables import (
    ChurnEvent,
    Contact,
    Customer,
    DeletedRow,
    Interaction,
    Order,
    Subscription,
    Survey,
    Ticket,
)
from churnradar.store.types import UtcDateTime

CHUNK_ROWS = 100_000
# ids per ``IN (...)`` list when re-reading deleted ids, to keep statements short
_IDS_PER_QUERY = 10_000

TIME = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class MirroredTable:
    """A table of the mirror. Event tables name the time column whose UTC month partitions
    them; small tables (no time column) are one file."""

    table: Table
    time_column: str | None = None

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def partitioned(self) -> bool:
        return self.time_column is not None

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(column.name, arrow_type(column)) for column in self.table.columns])

    @property
    def fingerprint(self) -> str:
        """Changes when a column is added, dropped or changes type: the table is then rebuilt."""
        text = ";".join(f"{field.name}:{field.type}" for field in self.schema)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


_DELETED = _table(DeletedRow)


MIRRORED_TABLES: tuple[MirroredTable, ...] = (
    MirroredTable(_table(Customer)),
    MirroredTable(_table(Contact)),
    MirroredTable(_table(Subscription)),
    MirroredTable(_table(Order), "ordered_at"),
    MirroredTable(_table(Interaction), "occurred_at"),
    MirroredTable(_table(Ticket), "opened_at"),
    MirroredTable(_table(Survey), "answered_at"),
    MirroredTable(_table(ChurnEvent), "occurred_at"),
)


def arrow_type(column: Column[object]) -> pa.DataType:
    """Parquet types: int64 for every integer, UTC microsecond timestamps, decimal128 with the
    column's precision and scale for money (exact, like the database), strings, bools."""
    kind = column.type
    if isinstance(kind, UtcDateTime):
        return TIME
    if isinstance(kind, Boolean):
        return pa.bool_()
    if isinstance(kind, Integer):
        return pa.int64()
    if isinstance(kind, Numeric) and not isinstance(kind, Float):
        assert kind.precision is not None, column
        assert kind.scale is not None, column
        return pa.decimal128(kind.precision, kind.scale)
    if isinstance(kind, String):
        return pa.string()
    raise TypeError(f"no Parquet type for {column} ({kind!r}): extend arrow_type()")


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one committed state of the database.

    PostgreSQL: a read-only REPEATABLE READ transaction. SQLite: an explicit deferred
    transaction (the driver opens none for reads), which WAL mode gives a snapshot at its
    first read without blocking writers.
    """
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        else:
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


def database_now(connection: Connection) -> datetime:
    """The database clock (SQLite: whole seconds, which only makes the next refresh look a
    little further back)."""
    now: datetime = connection.execute(select(type_coerce(func.now(), UtcDateTime()))).scalar_one()
    return now


def _select_item(column: Column[object], dialect: str) -> ColumnElement[object]:
    """The column as it crosses the driver: see :func:`_wire_type`."""
    kind = arrow_type(column)
    item: ColumnElement[object]
    if kind == TIME and dialect == "postgresql":
        item = cast(extract("epoch", column) * literal_column("1000000"), BigInteger())
    elif kind == TIME:
        item = column
    elif pa.types.is_decimal(kind):
        item = cast(column, Float())
    elif pa.types.is_boolean(kind):
        item = cast(column, Integer())
    else:
        item = column
    return item.label(column.name)


def _wire_type(kind: pa.DataType, dialect: str) -> pa.DataType:
    if kind == TIME:
        return pa.int64() if dialect == "postgresql" else pa.string()
    if pa.types.is_decimal(kind):
        return pa.float64()
    if pa.types.is_boolean(kind):
        return pa.int64()
    return kind


def _to_mirror(values: pa.Array, kind: pa.DataType) -> pa.Array:
    if kind == TIME and pa.types.is_string(values.type):
        return values.cast(pa.timestamp("us")).cast(TIME)
    # float64 -> decimal rounds to the scale: a float64 holds every 2-place amount below
    # 10^12 exactly once rounded (store/types.py says why SQLite keeps money as REAL)
    return values.cast(kind)


def read_batches(
    connection: Connection,
    mirrored: MirroredTable,
    *where: ColumnElement[bool],
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pa.RecordBatch]:
    """The table's rows matching ``where`` as record batches of the mirror schema; the whole
    table (no ``where``) comes in id order.

    The query runs on the driver's own cursor (a named, server-side one on PostgreSQL) inside
    the connection's transaction; Arrow converts each chunk of row tuples in one call.
    """
    dialect = connection.dialect.name
    schema = mirrored.schema
    wire = pa.struct([(field.name, _wire_type(field.type, dialect)) for field in schema])
    table = mirrored.table
    statement = select(*(_select_item(column, dialect) for column in table.columns)).where(*where)
    if not where:
        # only the whole table: with a filter, both planners would rather walk the primary
        # key than the filter's index to save the sort
        statement = statement.order_by(table.c.id)
    # the only values in the statement are times and ids of our own making
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.dbapi_connection
    assert driver is not None
    cursor = (
        driver.cursor(name=f"churnradar_mirror_{uuid.uuid4().hex}")
        if dialect == "postgresql"
        else driver.cursor()
    )
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(chunk_rows):
            columns = pa.array(rows, wire).flatten()
            yield pa.RecordBatch.from_arrays(
                [
                    _to_mirror(values, field.type)
                    for values, field in zip(columns, schema, strict=True)
                ],
                schema=schema,
            )
    finally:
        cursor.close()


def read_table(
    connection: Connection, mirrored: MirroredTable, *where: ColumnElement[bool]
) -> pa.Table:
    return pa.Table.from_batches(list(read_batches(connection, mirrored, *where)), mirrored.schema)


def count_changed(connection: Connection, mirrored: MirroredTable, since: datetime) -> int:
    table = mirrored.table
    count: int = connection.execute(
        select(func.count()).select_from(table).where(table.c.updated_at > since)
    ).scalar_one()
    return count


@dataclass(frozen=True)
class Changes:
    """What happened to a table since a time: its current rows that were written (or that
    came back under a deleted id), and the ids of deleted rows that are gone for good."""

    rows: pa.Table
    gone_ids: pa.Array


def read_changes(connection: Connection, mirrored: MirroredTable, since: datetime) -> Changes:
    table = mirrored.table
    changed = read_table(connection, mirrored, table.c.updated_at > since)
    deleted = np.array(
        connection.execute(
            select(_DELETED.c.row_id)
            .where(_DELETED.c.table_name == mirrored.name, _DELETED.c.deleted_at > since)
            .distinct()
        )
        .scalars()
        .all(),
        dtype=np.int64,
    )
    # an id deleted and written again (SQLite reuses the highest rowid) is a current row
    unseen = np.setdiff1d(deleted, changed["id"].to_numpy(), assume_unique=True)
    returned = [
        read_table(
            connection, mirrored, table.c.id.in_(unseen[start : start + _IDS_PER_QUERY].tolist())
        )
        for start in range(0, len(unseen), _IDS_PER_QUERY)
    ]
    rows = pa.concat_tables([changed, *returned])
    gone = np.setdiff1d(unseen, rows["id"].to_numpy(), assume_unique=True)
    return Changes(rows=rows, gone_ids=pa.array(gone, pa.int64()))


def purge_deletions(engine: Engine, *, before: datetime) -> int:
    """Forget recorded deletions that no later refresh will ask for. Returns how many."""
    purged = 0
    with engine.begin() as connection:
        for mirrored in MIRRORED_TABLES:
            result = connection.execute(
                delete(_DELETED).where(
                    _DELETED.c.table_name == mirrored.name, _DELETED.c.deleted_at <= before
                )
            )
            purged += result.rowcount
    return purged
