"""How fast a whole company goes into the application database, on SQLite and PostgreSQL.

Prints rows/s per table and in total for ``load_frames`` and the time ``delete_company_data``
takes to remove it again, then compares it with plain
SQLAlchemy Core (``connection.execute(insert(orders), list_of_dicts)``) on the same first
rows of the orders table, in the same process and on a fresh database with the same parents.
The baseline is timed from ready-made dicts, so the ratio flatters it rather than the loader.

    .venv/bin/python benchmarks/load_demo.py --customers 100000
    .venv/bin/python benchmarks/load_demo.py --customers 20000 --synthetic --backend sqlite

PostgreSQL is a throwaway cluster (tests/support/postgres.py) running with fsync off.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from uuid import uuid4

import pandas as pd
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from churnradar.store.bulk import LoadReport, delete_company_data, load_frames
from churnradar.store.engine import make_engine
from churnradar.store.schema import upgrade
from churnradar.store.tables import metadata
from support.frames import company_frames
from support.postgres import throwaway_cluster

BASELINE_PARENTS = ("teams", "users", "customers")
NewDatabase = Callable[[], Engine]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="use the test factory (tests/support/frames.py) instead of churnradar.demo",
    )
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 6, 30))
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--baseline-rows", type=int, default=100_000, help="orders rows for the Core baseline"
    )
    args = parser.parse_args()

    clock = time.perf_counter()
    frames = company(args.customers, synthetic=args.synthetic, end=args.end)
    rows = sum(len(frame) for frame in frames.values())
    source = "tests/support/frames.py" if args.synthetic else "churnradar.demo"
    print(
        f"company of {args.customers:,} customers from {source}: {rows:,} rows in "
        f"{len(frames)} tables, made in {time.perf_counter() - clock:.1f} s"
    )

    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="churnradar-bench-") as folder:
            benchmark("SQLite", sqlite_databases(Path(folder)), frames, args.baseline_rows)
    if args.backend in ("postgresql", "both"):
        with postgres_databases() as new_database:
            benchmark("PostgreSQL", new_database, frames, args.baseline_rows)


def company(customers: int, *, synthetic: bool, end: date) -> dict[str, pd.DataFrame]:
    if synthetic:
        return company_frames(customers, seed=7)
    try:
        from churnradar.demo import generate_company
    except ImportError as exc:
        sys.exit(f"churnradar.demo.generate_company is not available ({exc}); use --synthetic")
    frames: dict[str, pd.DataFrame] = generate_company(customers=customers, seed=7, end=end).frames
    return frames


def sqlite_databases(folder: Path) -> NewDatabase:
    def new_database() -> Engine:
        engine = make_engine(make_url(f"sqlite:///{folder / uuid4().hex}.db"))
        upgrade(engine)
        return engine

    return new_database


@contextmanager
def postgres_databases() -> Iterator[NewDatabase]:
    with throwaway_cluster() as url:
        server = make_url(url)
        admin = create_engine(server, isolation_level="AUTOCOMMIT")

        def new_database() -> Engine:
            name = f"bench_{uuid4().hex[:12]}"
            with admin.connect() as connection:
                connection.execute(text(f"CREATE DATABASE {name}"))
            engine = make_engine(server.set(database=name))
            upgrade(engine)
            return engine

        try:
            yield new_database
        finally:
            admin.dispose()


def benchmark(
    backend: str, new_database: NewDatabase, frames: dict[str, pd.DataFrame], baseline_rows: int
) -> None:
    engine = new_database()
    report = load_frames(engine, frames)
    print_report(backend, report)
    clock = time.perf_counter()
    delete_company_data(engine)
    print(f"  delete_company_data (for demo --replace): {time.perf_counter() - clock:.2f} s")
    engine.dispose()

    sample = frames["orders"].iloc[:baseline_rows]
    parents = {name: frames[name] for name in BASELINE_PARENTS}
    bulk_engine, core_engine = new_database(), new_database()
    load_frames(bulk_engine, parents)
    load_frames(core_engine, parents)

    clock = time.perf_counter()
    load_frames(bulk_engine, {"orders": sample})
    bulk_seconds = time.perf_counter() - clock

    records = sample.astype(object).where(sample.notna(), None).to_dict("records")
    clock = time.perf_counter()
    with core_engine.begin() as connection:
        connection.execute(insert(metadata.tables["orders"]), records)
    core_seconds = time.perf_counter() - clock
    bulk_engine.dispose()
    core_engine.dispose()

    bulk_rate, core_rate = len(sample) / bulk_seconds, len(sample) / core_seconds
    print(
        f"  baseline, first {len(sample):,} orders: Core insert {core_rate:,.0f} rows/s, "
        f"load_frames {bulk_rate:,.0f} rows/s, ratio {bulk_rate / core_rate:.1f}x"
    )


def print_report(backend: str, report: LoadReport) -> None:
    print(f"\n{backend}")
    print(f"  {'table':<20}{'rows':>12}{'seconds':>10}{'rows/s':>14}")
    for table, rows in report.rows.items():
        print(
            f"  {table:<20}{rows:>12,}{report.seconds[table]:>10.2f}"
            f"{report.table_rate(table):>14,.0f}"
        )
    print(
        f"  {'total':<20}{report.total_rows:>12,}{report.total_seconds:>10.2f}"
        f"{report.rows_per_second:>14,.0f}"
    )


if __name__ == "__main__":
    main()
