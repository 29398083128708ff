"""Writing changed rows by primary key: insert the new ones, update the ones that exist.

For modest deltas (a simulated week, an API batch), not whole companies: rows go through
SQLAlchemy's executemany with ``INSERT ... ON CONFLICT (id) DO UPDATE``, which SQLite and
PostgreSQL both speak. ``updated_at`` is set on every written row so the mirror sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import BigInteger, Connection, Engine, Integer, Table, text
from sqlalchemy.dialects import postgresql, sqlite

from churnradar.errors import InvalidInput
from churnradar.store.tables import metadata
from churnradar.store.types import utcnow

_BATCH = 5000


def upsert_frames(engine: Engine, frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Upsert every frame (table name -> rows with their primary key) in one transaction;
    returns the rows written per table."""
    unknown = set(frames) - set(metadata.tables)
    if unknown:
        raise InvalidInput(
            "store.bulk.unknown_table",
            table=", ".join(sorted(unknown)),
            known=", ".join(sorted(metadata.tables)),
        )
    written: dict[str, int] = {}
    now = utcnow()
    with engine.begin() as connection:
        for table in metadata.sorted_tables:
            frame = frames.get(table.name)
            if frame is None or frame.empty:
                continue
            records = _records(frame, table, now)
            statement = _upsert(table, connection.dialect.name, list(records[0]))
            for start in range(0, len(records), _BATCH):
                connection.execute(statement, records[start : start + _BATCH])
            written[table.name] = len(records)
            if connection.dialect.name == "postgresql":
                _advance_sequence(connection, table)
    return written


def _advance_sequence(connection: Connection, table: Table) -> None:
    """Explicit ids bypass PostgreSQL's sequence; move it past them so the next insert
    without an id does not collide."""
    (key,) = table.primary_key.columns
    if not isinstance(key.type, Integer | BigInteger) or table.name == "demo_ground_truth":
        return
    connection.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key.name}'),"
            f" (SELECT max({key.name}) FROM {table.name}))"
        )
    )


def _records(frame: pd.DataFrame, table: Table, now: Any) -> list[dict[str, Any]]:
    extra = set(frame.columns) - set(table.c.keys())
    if extra:
        raise InvalidInput(
            "store.bulk.unknown_column",
            table=table.name,
            column=", ".join(sorted(extra)),
            known=", ".join(table.c.keys()),
        )
    if "updated_at" in table.c:
        frame = frame.assign(updated_at=now)
    # object dtype turns numpy scalars into Python ones; missing values become None
    plain = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v for k, v in row.items()} for row in plain.to_dict("records")]


def _upsert(table: Table, dialect: str, columns: list[str]) -> Any:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table)
    keys = [column.name for column in table.primary_key.columns]
    changing = {
        name: statement.excluded[name]
        for name in columns
        if name not in keys and name != "created_at"
    }
    return statement.on_conflict_do_update(index_elements=keys, set_=changing)
