"""How fast ``churnradar import`` takes customer files in, and how much memory it needs.

Writes a customer table and a messy orders CSV (mixed date and amount styles, ~1% invalid
rows; benchmarks/import_samples.py), and a 200,000-row orders XLSX, then imports them with
``import_file`` into a fresh SQLite database: the customers, the orders CSV, the same CSV again
(nothing may change), optionally the CSV saved as GB18030, and the XLSX into a copy of the
database holding the customers only. Each import runs in a freshly spawned process, so its
peak RSS is its own (VmHWM on Linux: ``ru_maxrss`` would carry the parent's peak over fork and
exec); seconds are those of ``import_file`` alone, start-up and imports not counted. With
``--profile`` the orders CSV is imported once more under cProfile, apart from the figures.

The baseline is what a user might do without churnradar: ``pandas.read_csv`` the whole CSV and
``DataFrame.to_sql`` it into a scratch SQLite file through ``sqlite3``. It only stores text:
no parsing of dates or amounts, no customer look-up, no upsert, no rejected rows.

The issue's bar: a 1,000,000-row orders CSV imports at >= 50,000 rows/s on SQLite with a peak
RSS under 1 GiB. The figures are printed, never asserted.

    .venv/bin/python benchmarks/import_files.py
    .venv/bin/python benchmarks/import_files.py --orders 20000 --xlsx-orders 2000 --customers 1000
    .venv/bin/python benchmarks/import_files.py --gbk --postgres --profile

``--postgres`` alone starts a throwaway cluster (tests/support/postgres.py, fsync off); with a
URL, databases are created on that server and dropped again.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import pstats
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pandas as pd
from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_samples import (
    CSV_ORDER_BASE,
    XLSX_ORDER_BASE,
    Written,
    make_orders,
    write_customers,
    write_orders_csv,
    write_orders_xlsx,
)
from measure import peak_rss

from churnradar.config import Settings
from churnradar.store.engine import make_engine
from churnradar.store.schema import upgrade
from churnradar.workflow.import_file import ImportRequest, import_file

BAR_ROWS_PER_SECOND = 50_000
BAR_PEAK_BYTES = 2**30
BAR_ROWS = 1_000_000
SEED = 7
DEFAULT_CHUNK = ImportRequest("orders", Path()).chunk_rows


@dataclass(frozen=True)
class Files:
    customers: Written
    orders: Written
    gbk: Written | None
    xlsx: Written | None


@dataclass
class Measured:
    """One import (or the baseline), as the child process saw it."""

    name: str
    backend: str
    rows: int
    seconds: float
    peak_rss: int  # bytes
    rss_before: int  # bytes: the process's peak before the import, after its imports
    chunks_seconds: float = 0.0  # reading, validating and staging, up to the last chunk
    status: str = ""
    rejected: int = 0
    counts: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    # the import's reading process (forked; ru_maxrss counts the pages it shares with the
    # import at the fork, about ``rss_before``)
    reader_rss: int = 0

    @property
    def both_rss(self) -> int:
        """Peak memory of the import and its reader, the pages shared at fork counted once."""
        return self.peak_rss + max(self.reader_rss - self.rss_before, 0)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds

    def count(self, table: str) -> tuple[int, int, int]:
        return self.counts.get(table, (0, 0, 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="rows of the orders CSV")
    parser.add_argument("--xlsx-orders", type=int, default=200_000, help="rows of the XLSX")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--keep", type=Path, help="write the files and databases here, and keep")
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--gbk", action="store_true", help="also import the CSV as GB18030")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const="throwaway",
        metavar="URL",
        help="also run on PostgreSQL: a server URL, or a throwaway cluster when none is given",
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        help=f"rows per chunk the import reads (default: ImportRequest's, {DEFAULT_CHUNK:,})",
    )
    parser.add_argument(
        "--profile", action="store_true", help="import the orders CSV once more under cProfile"
    )
    args = parser.parse_args()

    with work_folder(args.keep) as folder:
        files = make_files(folder, args)
        print(f"imports read chunks of {args.chunk_rows or DEFAULT_CHUNK:,} rows")
        results = run_sqlite(folder, files, chunk_rows=args.chunk_rows, profile=args.profile)
        results.append(baseline(files.orders.path, folder / "baseline.db"))
        if args.postgres:
            results += run_postgres(args.postgres, folder, files, chunk_rows=args.chunk_rows)
        print_summary(results, files)


@contextmanager
def work_folder(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="churnradar-import-bench-") as folder:
        yield Path(folder)


# the files -----------------------------------------------------------------------------------


def make_files(folder: Path, args: argparse.Namespace) -> Files:
    print(f"writing the files into {folder}")
    clock = time.perf_counter()
    customers_path = folder / "customers.csv"
    write_customers(customers_path, args.customers, seed=SEED)
    customers = Written(customers_path, args.customers, 0, time.perf_counter() - clock)
    show(customers, "customers CSV")

    clock = time.perf_counter()
    orders = make_orders(args.orders, args.customers, first_number=CSV_ORDER_BASE, seed=SEED + 1)
    paths = {"utf-8": folder / "orders.csv"}
    if args.gbk:
        paths["gb18030"] = folder / "orders-gb18030.csv"
    write_orders_csv(orders, paths, seed=SEED + 2)
    seconds = time.perf_counter() - clock
    csv = Written(paths["utf-8"], args.orders, orders.invalid, seconds)
    show(csv, "orders CSV, UTF-8")
    gbk = Written(paths["gb18030"], args.orders, orders.invalid, seconds) if args.gbk else None
    if gbk:
        show(gbk, "orders CSV, GB18030")
    del orders

    xlsx = None
    if not args.skip_xlsx:
        clock = time.perf_counter()
        rows = make_orders(
            args.xlsx_orders, args.customers, first_number=XLSX_ORDER_BASE, seed=SEED + 3
        )
        write_orders_xlsx(rows, folder / "orders.xlsx")
        seconds = time.perf_counter() - clock
        xlsx = Written(folder / "orders.xlsx", args.xlsx_orders, rows.invalid, seconds)
        show(xlsx, "orders XLSX")
    return Files(customers, csv, gbk, xlsx)


def show(written: Written, label: str) -> None:
    print(
        f"  {label:<22}{written.rows:>11,} rows {written.megabytes:>8.1f} MiB, "
        f"{written.invalid:,} invalid, written in {written.seconds:.1f} s"
    )


# the imports ---------------------------------------------------------------------------------


def run_sqlite(
    folder: Path, files: Files, *, chunk_rows: int | None, profile: bool
) -> list[Measured]:
    def database(name: str) -> str:
        return f"sqlite:///{(folder / name).as_posix()}"

    def copy(source: str, target: str) -> str:
        """A copy of a SQLite database made through the backup API, so WAL is no matter."""
        (folder / target).unlink(missing_ok=True)
        with (
            closing(sqlite3.connect(folder / source)) as origin,
            closing(sqlite3.connect(folder / target)) as copy,
        ):
            origin.backup(copy)
        return database(target)

    for name in ("churnradar.db", "customers-only.db", "gbk.db", "xlsx.db", "profile.db"):
        for suffix in ("", "-wal", "-shm"):
            (folder / f"{name}{suffix}").unlink(missing_ok=True)
    main_url = database("churnradar.db")
    prepare(main_url)

    def run(name: str, url: str, kind: str, file: Written, stats: Path | None = None) -> Measured:
        return measure(Job(name, "SQLite", url, kind, file, folder / "data", chunk_rows, stats))

    results = [run("customers CSV", main_url, "customers", files.customers)]
    copy("churnradar.db", "customers-only.db")
    results += [
        run("orders CSV", main_url, "orders", files.orders),
        run("orders CSV again", main_url, "orders", files.orders),
    ]
    if files.gbk:
        results.append(
            run("orders CSV GB18030", copy("customers-only.db", "gbk.db"), "orders", files.gbk)
        )
    if files.xlsx:
        results.append(
            run("orders XLSX", copy("customers-only.db", "xlsx.db"), "orders", files.xlsx)
        )
    if profile:  # once more, apart, so that the profiler's overhead is in no figure above
        url, stats = copy("customers-only.db", "profile.db"), folder / "orders.prof"
        run("orders CSV, profiled", url, "orders", files.orders, stats)
        print_profile(stats)
    return results


def run_postgres(
    server: str, folder: Path, files: Files, *, chunk_rows: int | None
) -> list[Measured]:
    def run(name: str, url: str, kind: str, file: Written) -> Measured:
        return measure(Job(name, "PostgreSQL", url, kind, file, folder / "data", chunk_rows))

    with ExitStack() as stack:
        if server == "throwaway":
            from support.postgres import throwaway_cluster

            server = stack.enter_context(throwaway_cluster())
        new_database = stack.enter_context(postgres_databases(make_url(server)))
        main_url, xlsx_url = new_database(), new_database()
        results = [
            run("customers CSV", main_url, "customers", files.customers),
            run("orders CSV", main_url, "orders", files.orders),
            run("orders CSV again", main_url, "orders", files.orders),
        ]
        if files.xlsx:
            run("customers CSV", xlsx_url, "customers", files.customers)
            results.append(run("orders XLSX", xlsx_url, "orders", files.xlsx))
        return results


@contextmanager
def postgres_databases(server: URL) -> Iterator[Callable[[], str]]:
    """Empty databases on ``server``, with the schema, dropped at the end."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def new_database() -> str:
        name = f"import_bench_{uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        made.append(name)
        url = server.set(database=name).render_as_string(hide_password=False)
        prepare(url)
        return url

    try:
        yield new_database
    finally:
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def prepare(url: str) -> None:
    engine = make_engine(make_url(url))
    upgrade(engine)
    engine.dispose()


@dataclass(frozen=True)
class Job:
    """One import to run in a child process."""

    name: str
    backend: str
    url: str
    kind: str
    file: Written
    data: Path  # the data folder, where rejected rows go
    chunk_rows: int | None = None  # None: the library's default
    stats: Path | None = None  # where to write a cProfile of the import


def measure(job: Job) -> Measured:
    result = in_child(import_in_child, job)
    print(
        f"{job.backend} {job.name}: {result.rows:,} rows in {result.seconds:.2f} s, "
        f"{result.rate:,.0f} rows/s, peak RSS {mib(result.peak_rss)} "
        f"({mib(result.rss_before)} before the import; its reader process "
        f"{mib(result.reader_rss)}, both {mib(result.both_rss)}); {result.status}, "
        f"{result.rejected:,} rejected (the file has {job.file.invalid:,} invalid rows); "
        + "; ".join(
            f"{table} {i:,} inserted, {u:,} updated, {n:,} unchanged"
            for table, (i, u, n) in result.counts.items()
        )
    )
    return result


def in_child(function: Callable[..., Measured], *arguments: Any) -> Measured:
    """Run ``function`` in a newly spawned process, whose peak RSS is then its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *arguments).result()


def import_in_child(job: Job) -> Measured:
    settings = Settings(data_dir=job.data, database_url=job.url)
    engine = make_engine(settings.url)
    chunking = {"chunk_rows": job.chunk_rows} if job.chunk_rows else {}
    request = ImportRequest(kind=job.kind, path=job.file.path, create_customers=False, **chunking)
    last_chunk = 0.0

    def on_chunk(_read: int) -> None:
        nonlocal last_chunk
        last_chunk = time.perf_counter()

    rss_before = peak_rss()
    profiler = cProfile.Profile() if job.stats else None
    clock = time.perf_counter()
    if profiler:
        profiler.enable()
    report = import_file(engine, settings, request, on_chunk=on_chunk)
    if profiler:
        profiler.disable()
        profiler.dump_stats(job.stats)
    seconds = time.perf_counter() - clock
    engine.dispose()
    return Measured(
        name=job.name,
        backend=job.backend,
        rows=report.read,
        seconds=seconds,
        peak_rss=peak_rss(),
        rss_before=rss_before,
        chunks_seconds=last_chunk - clock if last_chunk else 0.0,
        status=report.status,
        rejected=report.rejected,
        counts={table: (c.inserted, c.updated, c.unchanged) for table, c in report.counts.items()},
        reader_rss=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    )


# the baseline --------------------------------------------------------------------------------


def baseline(csv: Path, scratch: Path) -> Measured:
    scratch.unlink(missing_ok=True)
    result = in_child(dump_in_child, csv, scratch)
    print(
        f"baseline read_csv + to_sql (text only, no validation): {result.rows:,} rows in "
        f"{result.seconds:.2f} s, {result.rate:,.0f} rows/s, peak RSS {mib(result.peak_rss)}"
    )
    return result


def dump_in_child(csv: Path, scratch: Path) -> Measured:
    rss_before = peak_rss()
    clock = time.perf_counter()
    frame = pd.read_csv(csv)
    with closing(sqlite3.connect(scratch)) as connection:
        frame.to_sql("orders_raw", connection, if_exists="replace", chunksize=50_000, method=None)
    seconds = time.perf_counter() - clock
    return Measured(
        name="read_csv + to_sql",
        backend="SQLite",
        rows=len(frame),
        seconds=seconds,
        peak_rss=peak_rss(),
        rss_before=rss_before,
        status="text dumped",
    )


# the report ----------------------------------------------------------------------------------


def print_summary(results: list[Measured], files: Files) -> None:
    print(
        f"\n{'import':<22}{'backend':<12}{'rows':>11}{'rejected':>10}{'inserted':>11}"
        f"{'updated':>9}{'unchanged':>11}{'seconds':>9}{'chunks s':>10}{'rows/s':>10}"
        f"{'peak RSS':>11}{'before':>10}"
    )
    for result in results:
        table = "customers" if result.name.startswith("customers") else "orders"
        inserted, updated, unchanged = result.count(table)
        print(
            f"{result.name:<22}{result.backend:<12}{result.rows:>11,}{result.rejected:>10,}"
            f"{inserted:>11,}{updated:>9,}{unchanged:>11,}{result.seconds:>9.2f}"
            f"{result.chunks_seconds:>10.2f}{result.rate:>10,.0f}{mib(result.peak_rss):>11}"
            f"{mib(result.rss_before):>10}"
        )
    print(
        "'chunks s' is reading, validating and staging up to the last chunk; the rest of "
        "'seconds' is the merge, the batch record and the commit. 'before' is the child's "
        "peak RSS after its imports (churnradar, pandas, SQLAlchemy), before the work began."
    )
    by_name = {(r.backend, r.name): r for r in results}
    orders, dump = by_name[("SQLite", "orders CSV")], by_name[("SQLite", "read_csv + to_sql")]
    print(
        f"\nimport ÷ baseline: {orders.rate / dump.rate:.2f}x the rows/s of read_csv + to_sql "
        f"(peak RSS {orders.peak_rss / dump.peak_rss:.2f}x). The import parses dates and "
        "amounts, resolves customers, rejects bad rows into a file and upserts; the baseline "
        "stores the cells as text."
    )
    again = by_name[("SQLite", "orders CSV again")]
    inserted, updated, unchanged = again.count("orders")
    idempotent = inserted == 0 and updated == 0 and unchanged == orders.rows - orders.rejected
    print(
        f"re-import of the same CSV: {inserted:,} inserted, {updated:,} updated, "
        f"{unchanged:,} unchanged of {orders.rows - orders.rejected:,} accepted: "
        + ("nothing changed, as it should" if idempotent else "SOMETHING CHANGED")
    )
    print_bar(orders, files.orders.invalid)


def print_bar(orders: Measured, invalid: int) -> None:
    fast = orders.rate >= BAR_ROWS_PER_SECOND
    small = orders.both_rss < BAR_PEAK_BYTES
    print(
        f"\nbar for the orders CSV on SQLite: >= {BAR_ROWS_PER_SECOND:,} rows/s: "
        f"{orders.rate:,.0f} ({'met' if fast else 'NOT met'}); peak RSS < 1 GiB: "
        f"{mib(orders.both_rss)} with its reader process ({'met' if small else 'NOT met'}); "
        "rejected "
        f"{orders.rejected:,} of {invalid:,} invalid rows"
    )
    if orders.rows != BAR_ROWS:
        print(f"  (the bar is set for {BAR_ROWS:,} rows; this run had {orders.rows:,})")


def print_profile(stats: Path) -> None:
    print(f"\nprofile of the orders CSV import (cProfile, {stats}), top 25 by own time:")
    pstats.Stats(str(stats)).strip_dirs().sort_stats("tottime").print_stats(25)
    print("top 25 by cumulative time:")
    pstats.Stats(str(stats)).strip_dirs().sort_stats("cumulative").print_stats(25)


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


if __name__ == "__main__":
    main()
