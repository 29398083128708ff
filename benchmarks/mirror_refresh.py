"""How much cheaper an incremental refresh of the Parquet mirror is than a full one.

Loads the demo company into a fresh database and times a full refresh (the baseline). Then
two incremental refreshes, each after changes made with SQL, with their ratios to the full one:

1. a business day: new orders and follow-ups for 1% of customers, new complaints, customers
   re-tiered, recent orders refunded, moved to another month or deleted, a few older orders
   corrected;
2. two long-standing customers deleted, whose rows leave nearly every month partition of every
   event table by cascade: the worst case of month partitioning.

Last it checks the mirror against the database (row counts and order amounts).

    .venv/bin/python benchmarks/mirror_refresh.py                    # 1,000,000 customers, SQLite
    .venv/bin/python benchmarks/mirror_refresh.py --customers 20000 --postgres
    .venv/bin/python benchmarks/mirror_refresh.py --existing data   # after churnradar demo

PostgreSQL is a throwaway cluster (tests/support/postgres.py) running with fsync off.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Engine,
    String,
    Table,
    cast,
    create_engine,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from churnradar.store.engine import make_engine
from churnradar.store.mirror import MirrorReport, mirror_connection, refresh_mirror
from churnradar.store.mirror_source import MIRRORED_TABLES
from churnradar.store.schema import upgrade
from churnradar.store.tables import metadata
from churnradar.store.types import Money, UtcDateTime
from support.postgres import throwaway_cluster


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true", help="use a throwaway PostgreSQL")
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--existing",
        type=Path,
        help="a data folder holding churnradar.db (from `churnradar demo`) to measure instead"
        " of a fresh load; its rows must be older than the look-back window",
    )
    args = parser.parse_args()

    if args.existing:
        engine = make_engine(make_url(f"sqlite:///{args.existing / 'churnradar.db'}"))
        with tempfile.TemporaryDirectory(prefix="churnradar-mirror-") as folder:
            _measure(engine, Path(folder) / "mirror", day=date.today(), seed=args.seed)
        engine.dispose()
        return 0

    from churnradar.demo import generate_company
    from churnradar.store.bulk import load_frames

    clock = time.perf_counter()
    company = generate_company(customers=args.customers, seed=args.seed, end=args.end)
    frames = yesterdays_load(company.frames)
    rows = sum(len(frame) for frame in frames.values())
    print(f"generated {args.customers:,} customers, {rows:,} rows in {_since(clock):.1f} s")

    with (
        tempfile.TemporaryDirectory(prefix="churnradar-mirror-") as folder,
        _database(Path(folder), postgres=args.postgres) as engine,
    ):
        clock = time.perf_counter()
        load_frames(engine, frames)
        print(f"loaded into {engine.dialect.name} in {_since(clock):.1f} s")
        del company, frames
        _measure(engine, Path(folder) / "mirror", day=args.end + timedelta(days=1), seed=args.seed)
    return 0


def _measure(engine: Engine, directory: Path, *, day: date, seed: int) -> None:
    full = refresh_mirror(engine, directory, full=True)
    _print_report("full refresh", full)

    clock = time.perf_counter()
    changes = apply_a_day_of_changes(engine, day=day, seed=seed)
    print(f"applied a day of changes in {_since(clock):.1f} s: {changes}")
    incremental = refresh_mirror(engine, directory)
    _print_report("incremental refresh after a day", incremental)
    print(f"full / incremental: {full.seconds / incremental.seconds:.1f}x")

    deleted = delete_customers(engine, count=2, seed=seed)
    print(f"deleted customers {deleted} with all their rows")
    cascade = refresh_mirror(engine, directory)
    _print_report("incremental refresh after deleting customers", cascade)
    print(f"full / incremental: {full.seconds / cascade.seconds:.1f}x")
    check(engine, directory)


def yesterdays_load(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The frames stamped as written a day ago. Rows written in the ten minutes before a
    refresh are read again by the next one (its look-back window), which after a load just
    now would be every row; a real day of changes follows a load at least a day old."""
    stamp = pd.Timestamp(datetime.now(UTC) - timedelta(days=1))
    mirrored = {table.name for table in MIRRORED_TABLES}
    return {
        name: frame.assign(
            created_at=pd.Series(stamp, index=frame.index, dtype="datetime64[us, UTC]"),
            updated_at=pd.Series(stamp, index=frame.index, dtype="datetime64[us, UTC]"),
        )
        if name in mirrored
        else frame
        for name, frame in frames.items()
    }


@contextmanager
def _database(folder: Path, *, postgres: bool) -> Iterator[Engine]:
    if not postgres:
        engine = make_engine(make_url(f"sqlite:///{folder / 'bench.db'}"))
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
        return
    with throwaway_cluster() as url:
        server = make_url(url)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE bench"))
        admin.dispose()
        engine = make_engine(server.set(database="bench"))
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def apply_a_day_of_changes(engine: Engine, *, day: date, seed: int) -> dict[str, int]:
    """One day of business, written as set-based SQL the way an import or the app would."""
    tables = metadata.tables
    customers, orders = tables["customers"], tables["orders"]
    interactions, tickets = tables["interactions"], tables["tickets"]
    rng = np.random.default_rng(seed)
    morning = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
    now = literal(datetime.now(UTC), UtcDateTime())
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        top_order = connection.execute(select(func.max(orders.c.id))).scalar_one()

        def some(count: int, top: int) -> list[int]:
            return sorted({int(value) for value in rng.integers(1, top + 1, count)})

        def insert_for(table: Table, modulo: int, remainder: int, **values: Any) -> int:
            """Insert one row per customer whose id % modulo == remainder."""
            chosen = select(customers.c.id).where(customers.c.id % modulo == remainder)
            columns = {**values, "created_at": now, "updated_at": now}
            query = select(*(literal_if_plain(value) for value in columns.values()))
            query = query.where(customers.c.id.in_(chosen))
            connection.execute(insert(table).from_select(list(columns), query))
            return int(
                connection.execute(select(func.count()).select_from(chosen.subquery())).scalar_one()
            )

        counts["new orders"] = insert_for(
            orders,
            100,
            7,
            external_id=literal("bench-") + cast(customers.c.id, String),
            customer_id=customers.c.id,
            ordered_at=literal(morning, UtcDateTime()),
            amount=literal(Decimal("288.00"), Money()),
            currency="CNY",
            quantity=2,
            status="completed",
        )
        counts["new interactions"] = insert_for(
            interactions,
            100,
            3,
            customer_id=customers.c.id,
            occurred_at=literal(morning + timedelta(hours=2), UtcDateTime()),
            channel="phone",
            direction="outbound",
            summary="电话回访",
        )
        counts["new tickets"] = insert_for(
            tickets,
            1000,
            11,
            customer_id=customers.c.id,
            opened_at=literal(morning + timedelta(hours=3), UtcDateTime()),
            category="delivery",
            severity="high",
            is_complaint=True,
        )
        # raw updates that leave updated_at alone: the triggers stamp them. Most touch the
        # last month's orders; a few correct older ones.
        recent = (
            connection.execute(
                select(orders.c.id).where(orders.c.ordered_at >= morning - timedelta(days=30))
            )
            .scalars()
            .all()
        )
        picked = rng.permutation(np.array(recent, dtype=np.int64))[:80].tolist()
        older = some(5, top_order)
        counts["orders repriced or refunded"] = connection.execute(
            update(orders)
            .where(orders.c.id.in_(picked[:50] + older))
            .values(amount=orders.c.amount + 1, status="refunded")
        ).rowcount
        counts["orders moved to another month"] = connection.execute(
            update(orders)
            .where(orders.c.id.in_(picked[50:60]))
            .values(ordered_at=literal(morning - timedelta(days=45), UtcDateTime()))
        ).rowcount
        counts["customers re-tiered"] = connection.execute(
            update(customers).where(customers.c.id % 1000 == 5).values(tier="gold")
        ).rowcount
        counts["orders deleted"] = connection.execute(
            delete(orders).where(orders.c.id.in_(picked[60:80]))
        ).rowcount
    return counts


def delete_customers(engine: Engine, *, count: int, seed: int) -> list[int]:
    """Delete long-standing customers: their rows go from nearly every month by cascade."""
    customers = metadata.tables["customers"]
    orders = metadata.tables["orders"]
    with engine.begin() as connection:
        busiest = (
            connection.execute(
                select(orders.c.customer_id)
                .group_by(orders.c.customer_id)
                .order_by(func.count().desc(), orders.c.customer_id)
                .limit(count)
            )
            .scalars()
            .all()
        )
        connection.execute(delete(customers).where(customers.c.id.in_(busiest)))
    return list(busiest)


def literal_if_plain(value: Any) -> ColumnElement[Any]:
    return value if isinstance(value, ColumnElement) else literal(value)


def check(engine: Engine, directory: Path) -> None:
    """Row counts, and the orders' amount total, of the database and the mirror."""
    mirror = mirror_connection(directory)
    try:
        for name in ("customers", "contacts", "subscriptions", "orders", "interactions"):
            table = metadata.tables[name]
            with engine.connect() as connection:
                expected = connection.execute(select(func.count()).select_from(table)).scalar_one()
            found = mirror.sql(f"SELECT count(*) AS n FROM {name}").to_arrow_table()["n"][0]
            print(f"  {name}: database {expected:,} rows, mirror {found.as_py():,}")
        with engine.connect() as connection:
            total = connection.execute(select(func.sum(metadata.tables["orders"].c.amount)))
            expected_amount = Decimal(total.scalar_one()).quantize(Decimal("0.01"))
        found_amount = mirror.sql("SELECT sum(amount) AS s FROM orders").to_arrow_table()["s"][0]
        print(f"  orders.amount total: database {expected_amount}, mirror {found_amount.as_py()}")
    finally:
        mirror.close()


def _print_report(title: str, report: MirrorReport) -> None:
    print(f"{title}: {report.seconds:.2f} s")
    for table in report.tables.values():
        print(
            f"  {table.table:14} {table.seconds:7.2f} s  written {table.rows_written:>11,}"
            f"  removed {table.rows_removed:>7,}  files {len(table.partitions_rewritten):>4}"
        )


def _since(start: float) -> float:
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
