"""Loading a whole company into the application database fast, and deleting it again.

:func:`load_frames` takes one pandas frame per table, with ids already assigned, and writes
them all in one transaction: ``COPY ... FROM STDIN`` with CSV on PostgreSQL, ``executemany``
of the raw driver on SQLite (see ``bulk_backends``). Either every table is loaded or none is.
Columns are converted chunk by chunk with vectorised code; no Python runs per row.

Foreign keys that point forward in the load order (``teams.manager_id``,
``interactions.task_id``, a subscription renewing a later one) are written as NULL first and
set with one UPDATE per column once every table is in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from time import perf_counter
from typing import Any

import pandas as pd
import psycopg
import pyarrow as pa
from sqlalchemy import Column, Connection, Engine, Table, delete, update

from churnradar.errors import ChurnradarError, Conflict, InvalidInput, Problem
from churnradar.store.bulk_backends import (
    ColumnError,
    Writer,
    constant,
    encode,
    foreign_keys_off,
    writer_for,
)
from churnradar.store.tables import metadata
from churnradar.store.types import utcnow

# what ``churnradar demo --replace`` clears; tables hanging off these go with them
COMPANY_TABLES = ("teams", "users", "customers", "demo_ground_truth")
_CHANGE_LOG = "deleted_rows"


@dataclass(frozen=True)
class LoadReport:
    """Rows and seconds per table (in load order) and for the whole load."""

    rows: dict[str, int]
    seconds: dict[str, float]
    total_seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.total_seconds if self.total_seconds > 0 else 0.0

    def table_rate(self, table: str) -> float:
        seconds = self.seconds[table]
        return self.rows[table] / seconds if seconds > 0 else 0.0


@dataclass(frozen=True)
class _Deferred:
    """Values of ``column`` written after every table is in: ``keys`` are primary keys."""

    column: str
    key: str
    keys: list[int]
    values: list[int]


@dataclass
class _TablePlan:
    table: Table
    frame: pd.DataFrame
    defaults: dict[str, Any]
    deferred: list[_Deferred] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        return [*self.frame.columns, *self.defaults]

    def chunks(self, rows: int) -> Iterator[list[pa.Array]]:
        """The table's columns as Arrow arrays, ``rows`` rows at a time."""
        size = min(rows, len(self.frame))
        filled = {
            name: encode(constant(value, size), self.table.c[name])
            for name, value in self.defaults.items()
        }
        for start in range(0, len(self.frame), rows):
            part = self.frame.iloc[start : start + rows]
            arrays = [encode(part[name], self.table.c[name]) for name in part.columns]
            arrays += [values.slice(0, len(part)) for values in filled.values()]
            yield arrays


def load_frames(
    engine: Engine, frames: Mapping[str, pd.DataFrame], *, replace: bool = False
) -> LoadReport:
    """Insert ``frames`` (table name -> rows with the table's column names) in one transaction.

    Columns left out are filled from the table's Python-side defaults (``created_at`` and
    ``updated_at`` get the load time); an unknown table or column, a required column that is
    missing, a value that does not fit, or a constraint the database enforces raises
    :class:`InvalidInput` (or :class:`Conflict` for a duplicate) naming the table, and leaves
    nothing behind. With ``replace``, the company already there is deleted first in the same
    transaction (see :func:`delete_company_data`), so a failed load keeps the old company.
    """
    started = perf_counter()
    plans = _plan(frames, utcnow())
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}
    rebuilds: dict[str, list[str]] = {}
    with (
        engine.connect() as connection,
        foreign_keys_off(connection) if replace else nullcontext(),
        connection.begin(),
        writer_for(connection) as writer,
    ):
        if replace:
            _clear_company(connection, writer)
        for plan in plans:
            clock, name = perf_counter(), plan.table.name
            with _blaming(name):
                rebuilds[name] = writer.set_aside(plan.table)
                writer.insert(plan.table, plan.columns, plan.chunks(writer.chunk_rows))
            rows[name], seconds[name] = len(plan.frame), perf_counter() - clock
        for plan in plans:
            clock, name = perf_counter(), plan.table.name
            with _blaming(name):
                for late in plan.deferred:
                    writer.update(plan.table, late.column, late.key, late.keys, late.values)
                writer.rebuild(rebuilds[name])
            seconds[name] += perf_counter() - clock
        if replace:
            _check_foreign_keys(connection)
        writer.finish([plan.table for plan in plans])
    _checkpoint(engine)
    return LoadReport(rows=rows, seconds=seconds, total_seconds=perf_counter() - started)


def delete_company_data(engine: Engine) -> None:
    """Delete every customer and what hangs off them, all teams and users, the demo ground
    truth and the deletion log, in one transaction.

    Settings, rules, runs, model versions and the audit log stay; their references to users
    become NULL, as ``ON DELETE SET NULL`` says. The deletions are not logged in
    ``deleted_rows`` (that log is emptied too): refresh the mirror in full afterwards.
    PostgreSQL truncates; SQLite empties the tables with its truncate optimisation.
    """
    with (
        engine.connect() as connection,
        foreign_keys_off(connection),
        connection.begin(),
        writer_for(connection) as writer,
    ):
        _clear_company(connection, writer)


def _clear_company(connection: Connection, writer: Writer) -> None:
    doomed = company_tables()
    kept = [table for table in metadata.sorted_tables if table not in doomed]
    for table in kept:
        for fk in table.foreign_keys:
            if fk.column.table in doomed:
                column = fk.parent
                connection.execute(
                    update(table).where(column.is_not(None)).values({column.name: None})
                )
    writer.clear(doomed)
    connection.execute(delete(metadata.tables[_CHANGE_LOG]))


def _checkpoint(engine: Engine) -> None:
    """Move a big load from SQLite's write-ahead log into the database file: readers would
    otherwise look up every page in a log of gigabytes. A reader still open elsewhere only
    makes the checkpoint partial, never wrong."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _check_foreign_keys(connection: Connection) -> None:
    """With SQLite's enforcement off for the replace, check the loaded rows before commit."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
    if broken is not None:
        table, row, parent = broken[0], broken[1], broken[2]
        raise InvalidInput(
            "store.bulk.rejected",
            table=table,
            reason=f"row id {row} refers to a missing row of {parent}",
        )


def company_tables() -> list[Table]:
    """The tables :func:`delete_company_data` empties, parents first (without the log)."""
    doomed = {metadata.tables[name] for name in COMPANY_TABLES}
    grew = True
    while grew:
        grew = False
        for table in metadata.sorted_tables:
            if table not in doomed and any(
                fk.column.table in doomed and (fk.ondelete == "CASCADE" or not fk.parent.nullable)
                for fk in table.foreign_keys
            ):
                doomed.add(table)
                grew = True
    return [table for table in metadata.sorted_tables if table in doomed]


def _plan(frames: Mapping[str, pd.DataFrame], loaded_at: datetime) -> list[_TablePlan]:
    unknown = sorted(set(frames) - set(metadata.tables))
    if unknown:
        raise InvalidInput(
            "store.bulk.unknown_table",
            table=unknown[0],
            known=", ".join(sorted(metadata.tables)),
        )
    order = [table for table in metadata.sorted_tables if table.name in frames]
    position = {table.name: index for index, table in enumerate(order)}
    plans = []
    for table in order:
        frame = frames[table.name].reset_index(drop=True)
        extra = [str(name) for name in frame.columns if name not in table.c]
        if extra:
            raise InvalidInput(
                "store.bulk.unknown_column",
                problems=[Problem(code="unknown_column", column=name) for name in extra],
                table=table.name,
                column=extra[0],
                known=", ".join(table.c.keys()),
            )
        defaults: dict[str, Any] = {}
        for column in table.columns:
            if column.name in frame.columns:
                continue
            if column.default is not None:
                defaults[column.name] = _default_value(column, loaded_at)
            elif not column.nullable and column.server_default is None:
                raise InvalidInput(
                    "store.bulk.missing_column",
                    problems=[Problem(code="missing_column", column=column.name)],
                    table=table.name,
                    column=column.name,
                )
        frame, deferred = _defer_forward_references(table, frame, position)
        plans.append(_TablePlan(table=table, frame=frame, defaults=defaults, deferred=deferred))
    return plans


def _default_value(column: Column[Any], loaded_at: datetime) -> Any:
    default = column.default
    assert default is not None
    value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
    return loaded_at if isinstance(value, datetime) else value


def _defer_forward_references(
    table: Table, frame: pd.DataFrame, position: Mapping[str, int]
) -> tuple[pd.DataFrame, list[_Deferred]]:
    """Blank the foreign keys that point at rows not yet inserted when this table goes in."""
    keys = list(table.primary_key.columns)
    if len(keys) != 1 or keys[0].name not in frame.columns:
        return frame, []
    key = keys[0].name
    deferred = []
    for fk in table.foreign_keys:
        name, target = fk.parent.name, fk.column.table
        if name not in frame.columns or target.name not in position:
            continue
        if target is table:
            if not frame[key].is_monotonic_increasing:
                frame = frame.sort_values(key, kind="stable", ignore_index=True)
            forward = (frame[name] >= frame[key]).fillna(False).to_numpy(dtype=bool)
        elif position[target.name] > position[table.name]:
            forward = frame[name].notna().to_numpy(dtype=bool)
        else:
            continue
        if forward.any():
            deferred.append(
                _Deferred(
                    column=name,
                    key=key,
                    keys=frame.loc[forward, key].astype("int64").tolist(),
                    values=frame.loc[forward, name].astype("int64").tolist(),
                )
            )
            frame = frame.assign(**{name: frame[name].mask(forward)})
    return frame, deferred


@contextmanager
def _blaming(table: str) -> Iterator[None]:
    """Turn whatever goes wrong while writing ``table`` into an error that names it."""
    try:
        yield
    except ColumnError as exc:
        raise InvalidInput(
            "store.bulk.bad_column",
            problems=[Problem(code="bad_column", column=exc.column, params={"reason": exc.reason})],
            table=table,
            column=exc.column,
            reason=exc.reason,
        ) from exc
    except (sqlite3.Error, psycopg.Error, OverflowError) as exc:
        raise _rejection(table, exc) from exc


def _rejection(table: str, exc: Exception) -> ChurnradarError:
    if isinstance(exc, psycopg.Error):
        duplicate = exc.sqlstate == "23505"
        diag = exc.diag
        # the context names the line of the COPY stream: the row's position in the frame
        context = (diag.context or "").split(": ")[0]
        parts = [diag.message_primary, diag.message_detail, context]
        reason = "; ".join(" ".join(part.split()).rstrip(".") for part in parts if part)
    else:
        name = getattr(exc, "sqlite_errorname", "")
        duplicate = name in {"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"}
        reason = str(exc)
    reason = reason or type(exc).__name__
    reason = reason if len(reason) <= 400 else reason[:400] + "…"
    if duplicate:
        return Conflict("store.bulk.duplicate", table=table, reason=reason)
    return InvalidInput("store.bulk.rejected", table=table, reason=reason)
