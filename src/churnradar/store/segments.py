"""Writing a segmentation run: each customer's value tier and his automatic tags.

:func:`write_segments` stages the run's rows in two temporary tables (``executemany`` on
SQLite, ``COPY`` on PostgreSQL, through ``bulk_backends``) and applies them with four
set-based statements in one transaction:

1. ``customers.tier`` is set where it differs (``updated_at`` with it, so the mirror sees it);
   customers the run does not name keep theirs;
2. automatic tags (``source = 'auto'``) the run no longer gives are deleted, for every
   customer, named by the run or not;
3. tags the run gives that the customer lacks are inserted as ``auto``, with ``created_at``
   the ``as_of`` of the run (a tag that stays keeps the date it was first given);
4. a tag the team set by hand (any other source) is never touched, and an automatic tag of
   the same code is not added beside it.

Writing the same rows twice therefore changes nothing, not even ``updated_at``. Customers
deleted since the rows were computed are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    MetaData,
    String,
    Table,
    bindparam,
    text,
)

from churnradar.domain.segments import AUTO_TAG_SOURCE
from churnradar.errors import Conflict, InvalidInput
from churnradar.store.bulk_backends import writer_for
from churnradar.store.types import UtcDateTime, stamped, utcnow

ROW_COLUMNS = ("customer_id", "tier", "tags")


@dataclass(frozen=True)
class SegmentWrite:
    """What a write changed: customers whose tier changed, auto tags added and removed."""

    tiers_changed: int
    tags_added: int
    tags_removed: int


def write_segments(engine: Engine, rows: pa.Table, *, as_of: datetime) -> SegmentWrite:
    """Set ``customers.tier`` and replace the automatic tags from ``rows``, in one transaction.

    ``rows`` has ``customer_id`` (one row per customer), ``tier`` (a string, may be null) and
    ``tags`` (a list of tag codes); other columns are ignored. ``as_of`` (aware) dates the
    tags this run adds.
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError(f"as_of must be an aware datetime, got {as_of!r}")
    tiers, tags = _staged_arrays(rows)
    now = utcnow()
    with engine.begin() as connection, writer_for(connection) as writer:
        staged_tiers, staged_tags = _stage_tables(connection)
        writer.insert(staged_tiers, ["customer_id", "tier"], [tiers])
        writer.insert(staged_tags, ["customer_id", "tag"], [tags])
        changed = _set_tiers(connection, staged_tiers.name, now)
        removed = _remove_tags(connection, staged_tags.name)
        added = _add_tags(connection, staged_tags.name, as_of)
        # after an error the rollback drops them with the rest (and PostgreSQL at commit)
        for table in (staged_tiers, staged_tags):
            connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
    return SegmentWrite(tiers_changed=changed, tags_added=added, tags_removed=removed)


def _staged_arrays(rows: pa.Table) -> tuple[list[pa.Array], list[pa.Array]]:
    """The columns to stage: (customer_id, tier) and one (customer_id, tag) row per tag."""
    missing = [name for name in ROW_COLUMNS if name not in rows.column_names]
    if missing:
        raise InvalidInput("store.bulk.missing_column", table="segments", column=missing[0])
    customers = rows["customer_id"].combine_chunks().cast(pa.int64())
    if customers.null_count:
        raise InvalidInput("store.bulk.missing_column", table="segments", column="customer_id")
    if pc.count_distinct(customers).as_py() != len(customers):
        raise Conflict(
            "store.bulk.duplicate", table="segments", reason="customer_id named more than once"
        )
    tiers = rows["tier"].combine_chunks().cast(pa.string())
    lists = rows["tags"].combine_chunks()
    if not pa.types.is_list(lists.type) and not pa.types.is_large_list(lists.type):
        raise InvalidInput(
            "store.bulk.bad_column", table="segments", column="tags", reason="not a list"
        )
    tag_values = pc.list_flatten(lists).cast(pa.string())
    owners = pc.take(customers, pc.list_parent_indices(lists))
    present = pc.is_valid(tag_values)
    return (
        [customers, tiers],
        [pc.filter(owners, present), pc.filter(tag_values, present)],
    )


def _stage_tables(connection: Connection) -> tuple[Table, Table]:
    metadata = MetaData()
    options: dict[str, Any] = {"prefixes": ["TEMPORARY"], "postgresql_on_commit": "DROP"}
    tiers = Table(
        "segment_stage_tiers",
        metadata,
        Column("customer_id", BigInteger),
        Column("tier", String(20)),
        **options,
    )
    tags = Table(
        "segment_stage_tags",
        metadata,
        Column("customer_id", BigInteger),
        Column("tag", String(50)),
        **options,
    )
    for table in (tiers, tags):
        connection.execute(text(f"DROP TABLE IF EXISTS {table.name}"))
        table.create(connection)
    return tiers, tags


def _set_tiers(connection: Connection, staged: str, now: datetime) -> int:
    result = connection.execute(
        stamped(
            "UPDATE customers SET tier = s.tier, updated_at = :now"
            f" FROM {staged} s WHERE customers.id = s.customer_id"
            " AND customers.tier IS DISTINCT FROM s.tier"
        ),
        {"now": now},
    )
    return int(result.rowcount or 0)


def _remove_tags(connection: Connection, staged: str) -> int:
    result = connection.execute(
        text(
            "DELETE FROM customer_tags WHERE source = :auto AND NOT EXISTS ("
            f" SELECT 1 FROM {staged} s WHERE s.customer_id = customer_tags.customer_id"
            " AND s.tag = customer_tags.tag)"
        ),
        {"auto": AUTO_TAG_SOURCE},
    )
    return int(result.rowcount or 0)


def _add_tags(connection: Connection, staged: str, as_of: datetime) -> int:
    statement = text(
        "INSERT INTO customer_tags (customer_id, tag, source, created_at)"
        f" SELECT DISTINCT s.customer_id, s.tag, :auto, :as_of FROM {staged} s"
        " WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = s.customer_id)"
        " AND NOT EXISTS (SELECT 1 FROM customer_tags t"
        "  WHERE t.customer_id = s.customer_id AND t.tag = s.tag)"
    ).bindparams(bindparam("as_of", type_=UtcDateTime()))
    result = connection.execute(statement, {"auto": AUTO_TAG_SOURCE, "as_of": as_of})
    return int(result.rowcount or 0)
