"""Merging imported rows: stage them in temporary tables, then upsert set-based in SQL.

An import appends its validated chunks to temporary tables (``executemany`` on SQLite, ``COPY``
on PostgreSQL), then merges each into its table with one ``INSERT ... SELECT ... ON CONFLICT
(key) DO UPDATE ... WHERE`` the row differs. References travel as keys (a customer's external
id, a user's name) in columns named ``<id column>__<target>`` and become ids in the same
statement. Rows equal to what is stored are not written at all, so importing a file twice
changes nothing, not even ``updated_at``. Everything happens in the caller's transaction.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Enum,
    MetaData,
    String,
    Table,
    bindparam,
    text,
)

from churnradar.store.bulk_backends import Writer, encode, writer_for
from churnradar.store.recorded_churn import mark_recorded_churn
from churnradar.store.tables import metadata
from churnradar.store.types import stamped, utcnow

# what a reference column points at: table and the column its keys are in
TARGETS = {
    "customer": ("customers", "external_id"),
    "user": ("users", "username"),
    "subscription": ("subscriptions", "external_id"),
}
# a frame's ``attrs`` entry: {column: value} for the empty cells and absent columns of rows
# this import inserts; rows already stored keep their values there
INSERT_DEFAULTS = "insert_defaults"
ROW = "_row"  # the source row number, which validation keeps for tracing; never staged


@dataclass(frozen=True)
class MergeCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: MergeCounts) -> MergeCounts:
        return MergeCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def unique_key(table: Table) -> str:
    return "username" if table.name == "users" else "external_id"


class Stage:
    """The temporary tables of one import, on one connection, inside its transaction.

    ``append`` stages a chunk's rows, ``flush`` merges them into their tables and empties
    the staging tables (so the merge of one chunk overlaps the reading of the next), and
    ``finish`` flushes what is left, rebuilds the indexes set aside, and returns the counts.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._metadata = MetaData()
        self._slots: dict[tuple[str, tuple[str, ...], bool], Table] = {}
        self._now = utcnow()
        self._counts: dict[str, MergeCounts] = {}
        self._rebuilds: dict[str, list[str]] = {}  # table -> SQL of the indexes set aside
        self._defaults: dict[tuple[str, tuple[str, ...], bool], dict[str, Any]] = {}
        self._writer_context = writer_for(connection)
        self._writer: Writer = self._writer_context.__enter__()

    def append(self, table_name: str, frame: pd.DataFrame, *, upsert: bool = True) -> None:
        """Stage ``frame``'s rows for ``table_name``; ``upsert=False`` only inserts rows whose
        key is new (customers and users an import creates on the way)."""
        defaults = dict(frame.attrs.get(INSERT_DEFAULTS, {}))
        frame = frame.drop(columns=ROW, errors="ignore")
        if frame.empty:
            return
        target = metadata.tables[table_name]
        slot = (table_name, tuple(frame.columns), upsert)
        staged = self._slots.get(slot)
        if staged is None:
            staged = self._create(slot, target, list(frame.columns))
            self._defaults[slot] = defaults
        arrays = [
            encode(frame[column].reset_index(drop=True), staged.c[column])
            for column in frame.columns
        ]
        self._writer.insert(staged, list(frame.columns), [arrays])

    def flush(self) -> None:
        """Merge every staged row into its table, parents first, and empty the stage."""
        order = {table.name: i for i, table in enumerate(metadata.sorted_tables)}
        for slot in sorted(self._slots, key=lambda s: order[s[0]]):
            table_name, _, upsert = slot
            target, staged_table = metadata.tables[table_name], self._slots[slot]
            merged = _Merge(
                self.connection, target, staged_table, self._now, self._defaults.get(slot, {})
            )
            staged, held = merged.sizes()
            if not staged:
                continue
            if table_name not in self._rebuilds:
                # a table no bigger than what comes (a first import): its secondary indexes
                # are built once at the end, in one sorted pass, 3x faster on SQLite than
                # row by row
                bulky = (
                    held <= staged
                    # on PostgreSQL, DROP INDEX locks out readers until the commit
                    and (held == 0 or self.connection.dialect.name == "sqlite")
                    # recorded churn is looked up by customer after every chunk
                    and table_name != "churn_events"
                )
                self._rebuilds[table_name] = (
                    self._writer.set_aside(target, only_if_empty=False) if bulky else []
                )
            counts = merged.run(upsert, staged=staged, held=held)
            self._counts[table_name] = self._counts.get(table_name, MergeCounts()) + counts
            if table_name == "churn_events":
                mark_recorded_churn(self.connection, staged_table, self._now)
            self.connection.execute(text(f"DELETE FROM {self.q(staged_table.name)}"))

    def finish(self) -> dict[str, MergeCounts]:
        """Flush, rebuild the indexes set aside; the counts per table of the whole import."""
        self.flush()
        for statements in self._rebuilds.values():
            self._writer.rebuild(statements)
        self._rebuilds = {name: [] for name in self._rebuilds}
        return dict(self._counts)

    def q(self, name: str) -> str:
        return self.connection.dialect.identifier_preparer.quote(name)

    def close(self) -> None:
        """Drop the temporary tables and hand the connection back as it was."""
        try:
            for staged in self._slots.values():
                self.connection.execute(text(f"DROP TABLE IF EXISTS {staged.name}"))
        finally:
            self._writer_context.__exit__(None, None, None)

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
        else:  # the rollback that follows drops the temporary tables with the rest
            # the connection may be gone (an interrupt): a second error would hide the first
            with suppress(Exception):
                self._writer_context.__exit__(None, None, None)

    def _create(
        self, slot: tuple[str, tuple[str, ...], bool], target: Table, columns: list[str]
    ) -> Table:
        definitions: list[Column[Any]] = []
        for name in columns:
            if name == ROW:
                definitions.append(Column(name, BigInteger))
            elif "__" in name:
                definitions.append(Column(name, String(255)))
            elif isinstance(kind := target.c[name].type, Enum):
                # the target checks the values; a CHECK on the staging table too doubles
                # the cost of staging on SQLite
                definitions.append(Column(name, String(kind.length)))
            else:
                definitions.append(Column(name, target.c[name].type))
        staged = Table(
            f"import_stage_{len(self._slots)}_{target.name}",
            self._metadata,
            *definitions,
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        staged.create(self.connection)
        self._slots[slot] = staged
        return staged


class _Merge:
    """One staged table into its target."""

    def __init__(
        self,
        connection: Connection,
        target: Table,
        staged: Table,
        now: Any,
        defaults: dict[str, Any] | None = None,
    ) -> None:
        self.connection = connection
        self.target = target
        self.staged = staged
        self.now = now
        self.defaults = defaults or {}
        self.key = unique_key(target)
        quote = connection.dialect.identifier_preparer.quote
        self.q = quote
        self.plain = [c.name for c in staged.c if c.name != ROW and "__" not in c.name]
        refs = [c.name for c in staged.c if "__" in c.name]
        # a reference to the table itself (a renewal naming the term before) is set after
        # the insert, when every row of the file is in
        self.self_refs = [r for r in refs if TARGETS[r.split("__")[1]][0] == target.name]
        self.refs = [r for r in refs if r not in self.self_refs]

    def sizes(self) -> tuple[int, int]:
        """Rows staged, and rows the table holds, counted up to one more than staged: enough
        to tell an empty table, or one no bigger than what comes, without counting a big one."""
        staged = self.connection.execute(
            text(f"SELECT count(*) FROM {self.q(self.staged.name)}")
        ).scalar_one()
        held = self.connection.execute(
            text(f"SELECT count(*) FROM (SELECT 1 FROM {self.q(self.target.name)} LIMIT :n) t"),
            {"n": staged + 1},
        ).scalar_one()
        return int(staged), int(held)

    def _ref_expr(self, ref: str) -> str:
        kind = ref.split("__")[1]
        table, key = TARGETS[kind]
        return f"(SELECT r.id FROM {self.q(table)} r WHERE r.{self.q(key)} = s.{self.q(ref)})"

    def _source(self) -> tuple[list[str], str]:
        """The target columns and a SELECT of the staged rows with references resolved."""
        columns = self.plain + [ref.split("__", maxsplit=1)[0] for ref in self.refs]
        exprs = [f"s.{self.q(c)}" for c in self.plain] + [self._ref_expr(r) for r in self.refs]
        select = ", ".join(f"{e} AS {self.q(c)}" for e, c in zip(exprs, columns, strict=True))
        return columns, f"SELECT {select} FROM {self.q(self.staged.name)} s"

    def run(self, upsert: bool, *, staged: int, held: int) -> MergeCounts:
        """Merge; ``staged`` and ``held`` are the row counts of the staged and target tables."""
        columns, source = self._source()
        name, key = self.q(self.target.name), self.q(self.key)
        existing = 0
        if held:  # of the staged keys, those the table has (an empty table has none)
            existing = self.connection.execute(
                text(
                    f"SELECT count(*) FROM {self.q(self.staged.name)} s"
                    f" WHERE EXISTS (SELECT 1 FROM {name} t WHERE t.{key} = s.{key})"
                )
            ).scalar_one()
        written = self._update(columns, source) if upsert and existing else 0
        inserted = self._insert(columns, source)
        for ref in self.self_refs:
            self._set_self_reference(ref)
        return MergeCounts(inserted, written, existing - written)

    def _update(self, columns: list[str], source: str) -> int:
        """Update the stored rows the file has, where a cell differs; an empty cell keeps
        the stored value. The number of rows updated."""
        name, key = self.q(self.target.name), self.q(self.key)
        changing = [c for c in columns if c != self.key]
        if not changing:
            return 0
        new = {c: f"coalesce(x.{self.q(c)}, {name}.{self.q(c)})" for c in changing}
        assignments = [f"{self.q(c)} = {value}" for c, value in new.items()]
        if "updated_at" in self.target.c:
            assignments.append("updated_at = :now")
        differs = " OR ".join(
            f"{value} IS DISTINCT FROM {name}.{self.q(c)}" for c, value in new.items()
        )
        result = self.connection.execute(
            stamped(
                f"UPDATE {name} SET {', '.join(assignments)} FROM ({source}) x"
                f" WHERE {name}.{key} = x.{key} AND ({differs})"
            ),
            {"now": self.now},
        )
        return int(result.rowcount or 0)

    def _insert(self, columns: list[str], source: str) -> int:
        """Insert the rows whose key is new; defaults fill their empty cells and the columns
        the file lacks. The number of rows inserted."""
        name, key = self.q(self.target.name), self.q(self.key)
        stamps = [c for c in ("created_at", "updated_at") if c in self.target.c]
        defaults = dict(self.defaults)
        for column in self.target.c:  # the table's own defaults, for what the import lacks
            if column.default is not None and column.default.is_scalar:
                defaults.setdefault(column.name, getattr(column.default, "arg", None))
        binds = {
            c: bindparam(f"default_{c}", value, type_=self.target.c[c].type)
            for c, value in defaults.items()
            if c not in stamps
        }
        values = [
            f"coalesce(x.{self.q(c)}, :default_{c})" if c in binds else f"x.{self.q(c)}"
            for c in columns
        ]
        absent = [c for c in binds if c not in columns]
        insert_columns = ", ".join(self.q(c) for c in columns + stamps + absent)
        selected = ", ".join(values + [":now" for _ in stamps] + [f":default_{c}" for c in absent])
        result = self.connection.execute(
            stamped(
                f"INSERT INTO {name} ({insert_columns}) SELECT {selected} FROM ({source}) x"
                f" WHERE NOT EXISTS (SELECT 1 FROM {name} t WHERE t.{key} = x.{key})"
            ).bindparams(*binds.values()),
            {"now": self.now},
        )
        return int(result.rowcount or 0)

    def _set_self_reference(self, ref: str) -> None:
        column = self.q(ref.split("__", maxsplit=1)[0])
        name, key = self.q(self.target.name), self.q(self.key)
        wanted = f"(SELECT p.id FROM {name} p WHERE p.{key} = s.{self.q(ref)})"
        self.connection.execute(
            stamped(
                f"UPDATE {name} SET {column} = {wanted}, updated_at = :now"
                f" FROM {self.q(self.staged.name)} s WHERE {name}.{key} = s.{key}"
                f" AND s.{self.q(ref)} IS NOT NULL"
                f" AND {name}.{column} IS DISTINCT FROM {wanted}"
            ),
            {"now": self.now},
        )
