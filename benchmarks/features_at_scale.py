"""How fast the feature pipeline computes customer features at 1,000,000 customers.

The data is the demo company (``churnradar.demo.generate_company``, 59 million rows at
1,000,000 customers, 35 million of them interactions) written straight into a Parquet mirror,
in the layout and schema that ``churnradar.store.mirror`` gives it (generation 1,
``CURRENT``, ``_state.json``, event tables by UTC month, the empty-partition file), without the
detour through a database: columns are encoded as ``store.bulk`` encodes them and cast as the
mirror reads them back, with the store's own writers. Columns the frames lack get their
default (``created_at`` and ``updated_at``: midnight UTC after the last day) or nulls. The
mirror is kept in ``--data`` and reused by later runs for the same ``--customers`` and
``--seed`` (``benchmark-data.json`` records them, written last).

Then three programs compute the same 21 core features of every customer as of ``--as-of``
(default 2026-11-01 00:00 UTC; windows are [as-of - n days, as-of), days are fractional):

1. the baseline: pandas, reading only the needed columns (rows filtered to before the as-of
   instant by pyarrow, short codes as categoricals) and aggregating with vectorised groupbys;
2. one hand-written DuckDB SQL query over ``mirror_connection``, a second reference;
3. the pipeline under test: ``churnradar.analytics.feature_table`` (Ibis on DuckDB) over
   ``open_mirror``, executed with ``to_pyarrow()``. It computes its whole catalogue (44
   features; asking for fewer saves nothing, as each part is materialised), and is compared
   with the references on the 21 they share.

Memory: each program runs in a freshly spawned process (multiprocessing's "spawn": a new
interpreter, nothing shared with the parent), so its peak RSS is its own: VmHWM on Linux, read
when the work is done (``ru_maxrss`` would carry the parent's peak over fork and exec).
Seconds are wall time of reading and computing, start-up and imports not counted ('before' is
the peak RSS after them); CPU seconds (all threads) and the load average at the start are
printed beside them, as the machine may be shared. ``--repeat`` runs each program again in new
processes and keeps the fastest time. DuckDB's progress bar is off for both SQL programs. The
baseline runs first, so the others find the files in the page cache.

The results go to Parquet files and are compared afterwards, feature by feature, with the
pandas result (joined on customer_id): equal within 1e-6 relative, nulls equal. Every
mismatching feature is printed with a count and an example, as are customers only one side has.

Conventions of both references: counts and revenue sums are 0 for a customer without events;
recency, means, latest values and ``days_to_contract_end`` are null. When two rows share the
latest time (orders, surveys), the one with the larger id wins. One row per customer whose
``first_seen`` is before the as-of instant. Orders count when their status is ``completed``
(the demo company has no ``pending`` ones), terms when they have an ``ends_at``.

The bars, printed and never asserted: at 1,000,000 customers the pipeline takes <= 15 s and
<= 4 GiB peak RSS, is >= 4x faster than pandas and within 2x of the hand-written SQL.

    .venv/bin/python benchmarks/features_at_scale.py                       # 1,000,000 customers
    .venv/bin/python benchmarks/features_at_scale.py --customers 20000 --data /tmp/bench-20k
    .venv/bin/python benchmarks/features_at_scale.py --data-only           # make the mirror only
    .venv/bin/python benchmarks/features_at_scale.py --repeat 3 --keep /tmp/features-results

Making the data at 1,000,000 customers takes about 5.5 minutes and 13 GiB of memory (the
simulation), in a child process of its own; the mirror takes 1 GiB on disk.
"""

from __future__ import annotations

import argparse
import gc
import glob
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_start
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from measure import peak_rss

from churnradar.store.bulk_backends import constant, encode
from churnradar.store.mirror import mirror_connection, mirror_paths
from churnradar.store.mirror_files import (
    SINGLE_FILE,
    MirrorState,
    PartitionedWriter,
    TableState,
    current_generation,
    keep_schema_file,
    publish,
    read_state,
    start_generation,
    write_batches,
    write_state,
)
from churnradar.store.mirror_source import MIRRORED_TABLES, TIME, MirroredTable

DEFAULT_DATA = Path(tempfile.gettempdir()) / "churnradar-bench-1m"
MARKER = "benchmark-data.json"
END = date(2026, 11, 22)
YEARS = 3  # generate_company's default history
CHUNK_ROWS = 1_000_000  # frame rows encoded into one Arrow batch
BUFFER_ROWS = 1_000_000  # rows PartitionedWriter holds before it writes a month out

FEATURES = (
    "days_since_last_order",
    "orders_30d",
    "orders_90d",
    "orders_365d",
    "revenue_90d",
    "revenue_365d",
    "avg_order_amount_365d",
    "last_order_amount",
    "days_since_last_follow_up",
    "days_since_last_inbound",
    "interactions_30d",
    "interactions_prior_90d",
    "inbound_90d",
    "complaints_90d",
    "open_complaints",
    "mean_first_response_hours_365d",
    "latest_nps",
    "latest_csat",
    "key_contact_changed_90d",
    "tenure_days",
    "days_to_contract_end",
)
COUNTS = (
    "orders_30d",
    "orders_90d",
    "orders_365d",
    "interactions_30d",
    "interactions_prior_90d",
    "inbound_90d",
    "complaints_90d",
    "open_complaints",
    "key_contact_changed_90d",
)
SUMS = ("revenue_90d", "revenue_365d")
CODES = ("channel", "direction", "kind")  # string columns the baseline reads as categoricals
FOLLOW_UP_CHANNELS = ("phone", "visit", "wechat", "email", "meeting")
RELATIVE_TOLERANCE = 1e-6

BAR_SECONDS = 15.0
BAR_PEAK_BYTES = 4 * 2**30
BAR_VS_PANDAS = 4.0
BAR_VS_SQL = 2.0
BAR_CUSTOMERS = 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"the mirror folder, made when missing or of another company (default {DEFAULT_DATA})",
    )
    parser.add_argument(
        "--as-of",
        type=_instant,
        default=datetime(2026, 11, 1, tzinfo=UTC),
        help="the instant the features are computed for, ISO 8601, UTC unless given",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each program this many times (fresh processes) and keep the fastest",
    )
    parser.add_argument("--data-only", action="store_true", help="make the mirror and stop")
    parser.add_argument("--keep", type=Path, help="write the three results here, and keep them")
    args = parser.parse_args()

    ensure_data(args.data, customers=args.customers, seed=args.seed)
    if args.data_only:
        return 0
    print(f"\nfeatures as of {args.as_of.isoformat()}")
    with results_folder(args.keep) as results:
        work = (args.data, args.as_of, results)
        baseline = measure("pandas baseline", pandas_in_child, *work, repeat=args.repeat)
        handwritten = measure("hand-written SQL", sql_in_child, *work, repeat=args.repeat)
        pipeline = measure("pipeline", pipeline_in_child, *work, repeat=args.repeat)
        print("\ncross-checks against the pandas baseline:")
        compare(results / baseline.file, results / handwritten.file, handwritten.name)
        compare(results / baseline.file, results / pipeline.file, pipeline.name)
    print_summary(baseline, handwritten, pipeline, customers=args.customers)
    return 0


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@contextmanager
def results_folder(keep: Path | None) -> Iterator[Path]:
    """``keep`` (made if needed), or a temporary folder removed at the end."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="churnradar-features-") as folder:
        yield Path(folder)


# the data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataMade:
    generate_seconds: float
    write_seconds: float
    rows: dict[str, int]
    peak_rss: int


def ensure_data(folder: Path, *, customers: int, seed: int) -> None:
    """Make the mirror in ``folder`` unless it already holds one of the same company."""
    wanted = {"customers": customers, "seed": seed, "end": END.isoformat(), "years": YEARS}
    marker = folder / MARKER
    if _read_marker(marker) == wanted and current_generation(folder) is not None:
        print(f"reusing the mirror in {folder} ({customers:,} customers, seed {seed})")
    else:
        _clear(folder)
        print(f"generating {customers:,} customers (seed {seed}) into a mirror in {folder}")
        made: DataMade = in_child(make_data_in_child, folder, customers, seed)
        # written last: a run that fails half-way leaves no marker, and the next one starts over
        marker.write_text(json.dumps(wanted, indent=2), encoding="utf-8")
        print(
            f"generated {sum(made.rows.values()):,} rows in {made.generate_seconds:.1f} s, "
            f"mirror written in {made.write_seconds:.1f} s, peak RSS {mib(made.peak_rss)}"
        )
    describe_data(folder)


def _read_marker(marker: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _clear(folder: Path) -> None:
    """Empty a folder this script made (a mirror or nothing); refuse any other."""
    if not folder.exists():
        return
    ours = (folder / MARKER).exists() or (folder / "CURRENT").exists()
    if not ours and any(folder.iterdir()):
        raise SystemExit(f"{folder} holds something other than a benchmark mirror: not touched")
    shutil.rmtree(folder)


def make_data_in_child(folder: Path, customers: int, seed: int) -> DataMade:
    from churnradar.demo import generate_company

    clock = time.perf_counter()
    company = generate_company(customers=customers, seed=seed, end=END, years=YEARS)
    frames = company.frames
    del company  # and with it the simulator's arrays
    gc.collect()
    generate_seconds = time.perf_counter() - clock
    clock = time.perf_counter()
    source = f"demo:generate_company(customers={customers}, seed={seed}, end={END.isoformat()})"
    rows = write_mirror(folder, frames, source=source, stamp=_stamp())
    return DataMade(generate_seconds, time.perf_counter() - clock, rows, peak_rss())


def _stamp() -> datetime:
    """created_at, updated_at and the watermark: midnight UTC after the last simulated day."""
    return datetime.combine(END + timedelta(days=1), day_start(), UTC)


def write_mirror(
    folder: Path, frames: dict[str, pd.DataFrame], *, source: str, stamp: datetime
) -> dict[str, int]:
    """Write the mirrored tables of ``frames`` as generation 1 of a mirror in ``folder``, as
    ``refresh_mirror`` lays it out; returns the rows per table. Each frame leaves ``frames``
    once written, so that its memory goes."""
    folder.mkdir(parents=True, exist_ok=True)
    target = start_generation(folder, None)
    tables: dict[str, TableState] = {}
    for mirrored in MIRRORED_TABLES:
        frame = frames.pop(mirrored.name)
        destination = target / mirrored.name
        batches = frame_batches(frame, mirrored, stamp)
        if mirrored.time_column is None:
            rows = write_batches(destination / SINGLE_FILE, mirrored.schema, batches)
        else:
            with PartitionedWriter(
                destination, mirrored.schema, mirrored.time_column, buffer_rows=BUFFER_ROWS
            ) as writer:
                for batch in batches:
                    writer.write(batch)
                writer.close()
            rows = writer.rows
            keep_schema_file(destination, mirrored.schema)
        tables[mirrored.name] = TableState(stamp, mirrored.fingerprint, rows)
        del frame, batches
        gc.collect()
    write_state(target, MirrorState(source, tables))
    publish(folder, target)
    return {name: state.rows for name, state in tables.items()}


def frame_batches(
    frame: pd.DataFrame, mirrored: MirroredTable, stamp: datetime
) -> Iterator[pa.RecordBatch]:
    """The frame's rows in id order, as record batches of the mirror schema: columns encoded
    as ``store.bulk`` encodes them for the database, then cast to the mirror's types as the
    mirror reads them back. Columns the frame lacks get their default (times: ``stamp``)."""
    schema = mirrored.schema
    if not frame["id"].is_monotonic_increasing:
        frame = frame.sort_values("id", ignore_index=True)
    for start in range(0, len(frame), CHUNK_ROWS):
        part = frame.iloc[start : start + CHUNK_ROWS]
        arrays = []
        for column in mirrored.table.columns:
            kind = schema.field(column.name).type
            if column.name in part.columns:
                values = encode(part[column.name], column)
            elif column.default is not None:
                default = stamp if kind == TIME else column.default.arg  # type: ignore[attr-defined]
                values = encode(constant(default, len(part)), column)
            elif column.nullable:
                values = pa.nulls(len(part), kind)
            else:
                raise ValueError(f"{mirrored.name}.{column.name} is required and not in the frame")
            arrays.append(values.cast(kind))
        yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def describe_data(folder: Path) -> None:
    """Rows per table, counted by DuckDB through ``mirror_connection``, and size on disk."""
    generation = current_generation(folder)
    assert generation is not None
    state = read_state(generation)
    connection = mirror_connection(folder)
    try:
        total_rows = total_size = 0
        for mirrored in MIRRORED_TABLES:
            found = connection.sql(f"SELECT count(*) AS n FROM {mirrored.name}").to_arrow_table()
            rows = int(found["n"][0].as_py())
            files = list((generation / mirrored.name).rglob("*.parquet"))
            size = sum(file.stat().st_size for file in files)
            recorded = state.tables[mirrored.name].rows
            differs = "" if rows == recorded else f" (_state.json says {recorded:,})"
            print(
                f"  {mirrored.name:14}{rows:>13,} rows{len(files):>6} files{mib(size):>11}{differs}"
            )
            total_rows += rows
            total_size += size
        print(f"  {'in all':14}{total_rows:>13,} rows{'':>12}{mib(total_size):>11}  ({generation})")
    finally:
        connection.close()


# the pandas baseline -------------------------------------------------------------------------


class Mirror:
    """Reads columns of the mirror's tables into pandas, as of an instant."""

    def __init__(self, folder: Path, as_of: datetime) -> None:
        self.paths = mirror_paths(folder)
        self.now = pd.Timestamp(as_of)
        self.instant = pa.scalar(as_of, TIME)

    def read(
        self, table: str, columns: list[str], time: str | None = None, where: Any = None
    ) -> pd.DataFrame:
        """The columns of the rows before the as-of instant by ``time`` that match ``where``
        (pyarrow filters them while reading); money as float64, the codes of low-cardinality
        strings (``CODES``) as categoricals."""
        codes = ds.ParquetReadOptions(dictionary_columns=[c for c in columns if c in CODES])
        dataset = ds.dataset(
            sorted(glob.glob(self.paths[table])), format=ds.ParquetFileFormat(read_options=codes)
        )
        if time is not None:
            before = pc.field(time) < self.instant
            where = before if where is None else where & before
        rows = dataset.to_table(columns=columns, filter=where)
        floats = [
            (f.name, pa.float64() if pa.types.is_decimal(f.type) else f.type) for f in rows.schema
        ]
        frame: pd.DataFrame = rows.cast(pa.schema(floats)).to_pandas()
        return frame

    def days_before(self, times: pd.Series) -> pd.Series:
        days: pd.Series = (self.now - times).dt.total_seconds() / 86400
        return days

    def ago(self, days: int) -> pa.Scalar:
        return pa.scalar(self.now.to_pydatetime() - timedelta(days=days), TIME)


def pandas_features(folder: Path, as_of: datetime) -> pd.DataFrame:
    """The 21 features with pandas: vectorised groupbys per table, no loop over customers."""
    mirror = Mirror(folder, as_of)
    customers = mirror.read(
        "customers", ["id", "first_seen"], where=pc.field("first_seen") < mirror.instant
    )
    result = pd.DataFrame(
        {"tenure_days": mirror.days_before(customers["first_seen"]).to_numpy()},
        index=pd.Index(customers["id"].to_numpy(), name="customer_id"),
    ).sort_index()
    parts: list[pd.DataFrame | pd.Series] = [
        *order_features(mirror),
        interaction_features(mirror),
        ticket_features(mirror),
        *survey_features(mirror),
        key_contact_features(mirror),
        contract_features(mirror),
    ]
    result = result.join(parts)
    for name in COUNTS:
        result[name] = result[name].fillna(0).astype("int64")
    for name in SUMS:
        result[name] = result[name].fillna(0.0)
    return result.reset_index()[["customer_id", *FEATURES]]


def latest(frame: pd.DataFrame, time: str, value: str) -> pd.Series:
    """``value`` of each customer's latest row by ``time``, ties to the larger id."""
    last = frame[time] == frame.groupby("customer_id")[time].transform("max")
    tied = frame.loc[last, ["customer_id", "id", value]]
    chosen = tied.sort_values(["customer_id", "id"]).drop_duplicates("customer_id", keep="last")
    values: pd.Series = chosen.set_index("customer_id")[value]
    return values


def order_features(mirror: Mirror) -> list[pd.DataFrame]:
    orders = mirror.read(
        "orders",
        ["id", "customer_id", "ordered_at", "amount"],
        "ordered_at",
        pc.field("status") == "completed",
    )
    age = mirror.days_before(orders["ordered_at"])
    amount = orders["amount"]
    per_order = pd.DataFrame(
        {
            "customer_id": orders["customer_id"],
            "days_since_last_order": age,
            "orders_30d": age <= 30,
            "orders_90d": age <= 90,
            "orders_365d": age <= 365,
            "revenue_90d": amount.where(age <= 90, 0.0),
            "revenue_365d": amount.where(age <= 365, 0.0),
        }
    )
    features = per_order.groupby("customer_id").agg(
        {
            "days_since_last_order": "min",
            "orders_30d": "sum",
            "orders_90d": "sum",
            "orders_365d": "sum",
            "revenue_90d": "sum",
            "revenue_365d": "sum",
        }
    )
    in_year = features["orders_365d"].where(features["orders_365d"] > 0)
    features["avg_order_amount_365d"] = features["revenue_365d"] / in_year
    last = latest(orders, "ordered_at", "amount").rename("last_order_amount").to_frame()
    return [features, last]


def interaction_features(mirror: Mirror) -> pd.DataFrame:
    interactions = mirror.read(
        "interactions", ["customer_id", "occurred_at", "channel", "direction"], "occurred_at"
    )
    age = mirror.days_before(interactions["occurred_at"])
    inbound = interactions["direction"] == "inbound"
    follow_up = (interactions["direction"] == "outbound") & interactions["channel"].isin(
        FOLLOW_UP_CHANNELS
    )
    per_interaction = pd.DataFrame(
        {
            "customer_id": interactions["customer_id"],
            "days_since_last_follow_up": age.where(follow_up),
            "days_since_last_inbound": age.where(inbound),
            "interactions_30d": age <= 30,
            "interactions_prior_90d": (age > 30) & (age <= 120),
            "inbound_90d": inbound & (age <= 90),
        }
    )
    del interactions, age, inbound, follow_up
    return per_interaction.groupby("customer_id").agg(
        {
            "days_since_last_follow_up": "min",
            "days_since_last_inbound": "min",
            "interactions_30d": "sum",
            "interactions_prior_90d": "sum",
            "inbound_90d": "sum",
        }
    )


def ticket_features(mirror: Mirror) -> pd.DataFrame:
    tickets = mirror.read(
        "tickets",
        ["customer_id", "opened_at", "is_complaint", "first_response_at", "resolved_at"],
        "opened_at",
    )
    age = mirror.days_before(tickets["opened_at"])
    complaint = tickets["is_complaint"]
    resolved = tickets["resolved_at"]
    response = (tickets["first_response_at"] - tickets["opened_at"]).dt.total_seconds() / 3600
    answered = (age <= 365) & (tickets["first_response_at"] < mirror.now)
    per_ticket = pd.DataFrame(
        {
            "customer_id": tickets["customer_id"],
            "complaints_90d": complaint & (age <= 90),
            "open_complaints": complaint & (resolved.isna() | (resolved >= mirror.now)),
            "mean_first_response_hours_365d": response.where(answered),
        }
    )
    return per_ticket.groupby("customer_id").agg(
        {
            "complaints_90d": "sum",
            "open_complaints": "sum",
            "mean_first_response_hours_365d": "mean",
        }
    )


def survey_features(mirror: Mirror) -> list[pd.DataFrame]:
    surveys = mirror.read(
        "surveys", ["id", "customer_id", "answered_at", "kind", "score"], "answered_at"
    )
    return [
        latest(surveys[surveys["kind"] == kind], "answered_at", "score")
        .astype("float64")
        .rename(f"latest_{kind}")
        .to_frame()
        for kind in ("nps", "csat")
    ]


def key_contact_features(mirror: Mirror) -> pd.DataFrame:
    left = mirror.read(
        "contacts",
        ["customer_id"],
        where=pc.field("is_key")
        & (pc.field("active_to") >= mirror.ago(90))
        & (pc.field("active_to") < mirror.instant),
    )
    customers = pd.Index(left["customer_id"].unique(), name="customer_id")
    return pd.DataFrame({"key_contact_changed_90d": 1}, index=customers)


def contract_features(mirror: Mirror) -> pd.DataFrame:
    now = mirror.instant
    running = mirror.read(
        "subscriptions",
        ["customer_id", "ends_at"],
        where=(pc.field("started_at") < now)
        & (pc.field("ends_at") >= now)
        & (pc.field("cancelled_at").is_null() | (pc.field("cancelled_at") >= now)),
    )
    ends = running.groupby("customer_id")["ends_at"].min()
    days = (ends - mirror.now).dt.total_seconds() / 86400
    return days.rename("days_to_contract_end").to_frame()


def pandas_in_child(folder: Path, as_of: datetime, results: Path) -> Measured:
    watch = Stopwatch()
    frame = pandas_features(folder, as_of)
    watch.stop()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return watch.measured("pandas baseline", table, results / "pandas.parquet")


# the hand-written SQL ------------------------------------------------------------------------


def handwritten_sql(as_of: datetime) -> str:
    """The 21 features in one DuckDB query over the views of ``mirror_connection``: windows
    compare timestamps with instants computed here; days are taken once per customer."""

    def instant(days_ago: int = 0) -> str:
        return f"TIMESTAMPTZ '{(as_of - timedelta(days=days_ago)).isoformat()}'"

    def days(earlier: str, later: str) -> str:
        return f"(epoch_us({later}) - epoch_us({earlier})) / 86400e6"

    def newest(value: str, time: str) -> str:
        """``value`` of the row with the latest ``time``, ties to the larger id (an int128
        key: cheaper to compare than a struct)."""
        return f"arg_max({value}, epoch_us({time})::HUGEINT * 4294967296 + id)"

    now = instant()
    channels = ", ".join(f"'{channel}'" for channel in FOLLOW_UP_CHANNELS)
    return f"""
WITH o AS (
    SELECT customer_id,
        max(ordered_at) AS last_order_at,
        count(*) FILTER (ordered_at >= {instant(30)}) AS orders_30d,
        count(*) FILTER (ordered_at >= {instant(90)}) AS orders_90d,
        count(*) FILTER (ordered_at >= {instant(365)}) AS orders_365d,
        sum(amount) FILTER (ordered_at >= {instant(90)}) AS revenue_90d,
        sum(amount) FILTER (ordered_at >= {instant(365)}) AS revenue_365d,
        {newest("amount", "ordered_at")} AS last_order_amount
    FROM orders WHERE status = 'completed' AND ordered_at < {now}
    GROUP BY customer_id
), i AS (
    SELECT customer_id,
        max(occurred_at) FILTER (direction = 'outbound' AND channel IN ({channels}))
            AS last_follow_up_at,
        max(occurred_at) FILTER (direction = 'inbound') AS last_inbound_at,
        count(*) FILTER (occurred_at >= {instant(30)}) AS interactions_30d,
        count(*) FILTER (occurred_at >= {instant(120)} AND occurred_at < {instant(30)})
            AS interactions_prior_90d,
        count(*) FILTER (direction = 'inbound' AND occurred_at >= {instant(90)}) AS inbound_90d
    FROM interactions WHERE occurred_at < {now}
    GROUP BY customer_id
), t AS (
    SELECT customer_id,
        count(*) FILTER (is_complaint AND opened_at >= {instant(90)}) AS complaints_90d,
        count(*) FILTER (is_complaint AND (resolved_at IS NULL OR resolved_at >= {now}))
            AS open_complaints,
        avg(epoch_us(first_response_at) - epoch_us(opened_at)) FILTER (
            opened_at >= {instant(365)} AND first_response_at < {now}
        ) / 3600e6 AS mean_first_response_hours_365d
    FROM tickets WHERE opened_at < {now}
    GROUP BY customer_id
), s AS (
    SELECT customer_id,
        {newest("score", "answered_at")} FILTER (kind = 'nps') AS latest_nps,
        {newest("score", "answered_at")} FILTER (kind = 'csat') AS latest_csat
    FROM surveys WHERE answered_at < {now}
    GROUP BY customer_id
), k AS (
    SELECT DISTINCT customer_id FROM contacts
    WHERE is_key AND active_to >= {instant(90)} AND active_to < {now}
), c AS (
    SELECT customer_id, min(ends_at) AS contract_end
    FROM subscriptions
    WHERE started_at < {now} AND ends_at >= {now}
        AND (cancelled_at IS NULL OR cancelled_at >= {now})
    GROUP BY customer_id
)
SELECT customers.id AS customer_id,
    {days("o.last_order_at", now)} AS days_since_last_order,
    coalesce(o.orders_30d, 0) AS orders_30d,
    coalesce(o.orders_90d, 0) AS orders_90d,
    coalesce(o.orders_365d, 0) AS orders_365d,
    coalesce(o.revenue_90d, 0)::DOUBLE AS revenue_90d,
    coalesce(o.revenue_365d, 0)::DOUBLE AS revenue_365d,
    (o.revenue_365d / nullif(o.orders_365d, 0))::DOUBLE AS avg_order_amount_365d,
    o.last_order_amount::DOUBLE AS last_order_amount,
    {days("i.last_follow_up_at", now)} AS days_since_last_follow_up,
    {days("i.last_inbound_at", now)} AS days_since_last_inbound,
    coalesce(i.interactions_30d, 0) AS interactions_30d,
    coalesce(i.interactions_prior_90d, 0) AS interactions_prior_90d,
    coalesce(i.inbound_90d, 0) AS inbound_90d,
    coalesce(t.complaints_90d, 0) AS complaints_90d,
    coalesce(t.open_complaints, 0) AS open_complaints,
    t.mean_first_response_hours_365d,
    s.latest_nps::DOUBLE AS latest_nps,
    s.latest_csat::DOUBLE AS latest_csat,
    (k.customer_id IS NOT NULL)::BIGINT AS key_contact_changed_90d,
    {days("customers.first_seen", now)} AS tenure_days,
    {days(now, "c.contract_end")} AS days_to_contract_end
FROM customers
LEFT JOIN o ON o.customer_id = customers.id
LEFT JOIN i ON i.customer_id = customers.id
LEFT JOIN t ON t.customer_id = customers.id
LEFT JOIN s ON s.customer_id = customers.id
LEFT JOIN k ON k.customer_id = customers.id
LEFT JOIN c ON c.customer_id = customers.id
WHERE customers.first_seen < {now}
ORDER BY customers.id
"""


def sql_in_child(folder: Path, as_of: datetime, results: Path) -> Measured:
    watch = Stopwatch()
    connection = mirror_connection(folder)
    try:
        connection.execute("SET enable_progress_bar = false")
        table = connection.sql(handwritten_sql(as_of)).to_arrow_table()
    finally:
        connection.close()
    watch.stop()
    return watch.measured("hand-written SQL", table, results / "sql.parquet")


# the pipeline under test ---------------------------------------------------------------------


def pipeline_in_child(folder: Path, as_of: datetime, results: Path) -> Measured:
    import ibis

    from churnradar.analytics import feature_table, open_mirror

    # DuckDB 2 warns about the method Ibis 12 calls to fetch Arrow
    warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
    watch = Stopwatch()
    tables = open_mirror(folder)
    ibis.get_backend(tables.customers).raw_sql("SET enable_progress_bar = false")  # as for SQL
    table = feature_table(tables, as_of).to_pyarrow()
    watch.stop()
    return watch.measured("pipeline", table, results / "pipeline.parquet")


# measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    name: str
    seconds: float
    # user + system, all threads: less sensitive than wall time to a busy machine
    cpu_seconds: float
    peak_rss: int
    rss_before: int  # the child's peak RSS after its imports, before the work began
    load: float  # the machine's 1-minute load average when the work began
    rows: int
    features: int
    file: str  # the result, in the results folder


class Stopwatch:
    """Wall and CPU seconds of the work, and the peak RSS before and after it."""

    def __init__(self) -> None:
        self.rss_before = peak_rss()
        self.load = os.getloadavg()[0]
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self.seconds = self.cpu_seconds = 0.0
        self.peak_rss = 0

    def stop(self) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu
        self.peak_rss = peak_rss()

    def measured(self, name: str, table: pa.Table, path: Path) -> Measured:
        """Write the result (after the peak RSS was taken) and say what was measured."""
        pq.write_table(table, path)
        features = len([column for column in table.column_names if column != "customer_id"])
        return Measured(
            name=name,
            seconds=self.seconds,
            cpu_seconds=self.cpu_seconds,
            peak_rss=self.peak_rss,
            rss_before=self.rss_before,
            load=self.load,
            rows=table.num_rows,
            features=features,
            file=path.name,
        )


def measure(
    name: str,
    function: Callable[[Path, datetime, Path], Measured],
    *arguments: Any,
    repeat: int = 1,
) -> Measured:
    """Run ``function`` ``repeat`` times, each in a fresh process: the fastest time and the
    highest peak RSS of the runs."""
    runs: list[Measured] = []
    for _ in range(repeat):
        runs.append(in_child(function, *arguments))
    fastest = min(runs, key=lambda run: run.seconds)
    result = replace(fastest, peak_rss=max(run.peak_rss for run in runs))
    each = ", ".join(f"{run.seconds:.2f} s (load {run.load:.1f})" for run in runs)
    print(
        f"{name}: {result.seconds:.2f} s, CPU {result.cpu_seconds:.2f} s, peak RSS "
        f"{mib(result.peak_rss)} ({mib(result.rss_before)} before), {result.rows:,} rows, "
        f"{result.features} features" + (f"; runs: {each}" if repeat > 1 else "")
    )
    return result


def in_child(function: Callable[..., Any], *arguments: Any) -> Any:
    """Run ``function`` in a newly spawned process, whose peak RSS is then its own."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *arguments).result()


# the cross-check -----------------------------------------------------------------------------


def compare(reference_file: Path, other_file: Path, name: str) -> int:
    """Print every feature on which ``other`` differs from the pandas result, with a count and
    an example; returns the number of mismatching features (missing ones included)."""
    reference = _features(pq.read_table(reference_file))
    other = _features(pq.read_table(other_file))
    for label, frame in (("pandas", reference), (name, other)):
        repeated = frame.index.duplicated()
        if repeated.any():
            print(
                f"  {name}: {int(repeated.sum()):,} repeated customer rows in {label} "
                f"(e.g. {list(frame.index[repeated][:3])}); the first of each is compared"
            )
    reference = reference[~reference.index.duplicated()]
    other = other[~other.index.duplicated()]
    only_reference = reference.index.difference(other.index)
    only_other = other.index.difference(reference.index)
    if len(only_reference) or len(only_other):
        print(
            f"  {name}: customers {len(only_reference):,} only in pandas "
            f"(e.g. {list(only_reference[:3])}), {len(only_other):,} only in {name} "
            f"(e.g. {list(only_other[:3])})"
        )
    common = reference.index.intersection(other.index)
    mismatched = 0
    for feature in FEATURES:
        if feature not in other.columns:
            print(f"  {name}: {feature} MISSING")
            mismatched += 1
            continue
        expected = reference.loc[common, feature].to_numpy(dtype=np.float64)
        found = other.loc[common, feature].to_numpy(dtype=np.float64)
        both_null = np.isnan(expected) & np.isnan(found)
        scale = np.maximum(np.abs(expected), np.abs(found))
        close = np.abs(expected - found) <= RELATIVE_TOLERANCE * scale
        wrong = ~(both_null | close)
        count = int(wrong.sum())
        if count:
            mismatched += 1
            first = int(np.flatnonzero(wrong)[0])
            print(
                f"  {name}: {feature} differs for {count:,} of {len(common):,} customers, "
                f"e.g. customer {common[first]}: pandas {_shown(expected[first])}, "
                f"{name} {_shown(found[first])}"
            )
    if not mismatched:
        print(f"  {name}: all {len(FEATURES)} features equal for {len(common):,} customers")
    return mismatched


def _features(table: pa.Table) -> pd.DataFrame:
    """The result as float64 columns (nulls NaN) indexed by customer_id."""
    columns = {}
    for name in table.column_names:
        values = table[name]
        if name != "customer_id" and not pa.types.is_floating(values.type):
            values = values.cast(pa.float64())
        columns[name] = values.to_numpy(zero_copy_only=False)
    frame = pd.DataFrame(columns)
    return frame.set_index("customer_id")


def _shown(value: float) -> str:
    return "null" if np.isnan(value) else f"{value:.6f}".rstrip("0").rstrip(".")


# the report ----------------------------------------------------------------------------------


def print_summary(
    baseline: Measured, handwritten: Measured, pipeline: Measured, *, customers: int
) -> None:
    print(
        f"\n{'program':<18}{'seconds':>9}{'CPU s':>8}{'load':>6}{'peak RSS':>11}{'before':>9}"
        f"{'rows':>11}{'features':>9}"
    )
    for result in (baseline, handwritten, pipeline):
        print(
            f"{result.name:<18}{result.seconds:>9.2f}{result.cpu_seconds:>8.1f}"
            f"{result.load:>6.1f}{mib(result.peak_rss):>11}{mib(result.rss_before):>9}"
            f"{result.rows:>11,}{result.features:>9}"
        )
    print(
        "'load' is the machine's 1-minute load average when the work began, on "
        f"{os.cpu_count()} cores: above that, the programs shared the CPU with others."
    )
    print(f"pandas / hand-written SQL: {_ratios(baseline, handwritten)}")
    # the pipeline computes its whole catalogue (each part is materialised, so asking for
    # fewer columns saves nothing); the references compute the 21 core features
    vs_pandas = baseline.seconds / pipeline.seconds
    vs_sql = pipeline.seconds / handwritten.seconds
    print(f"pandas / pipeline: {_ratios(baseline, pipeline)}")
    print(f"pipeline / hand-written SQL: {_ratios(pipeline, handwritten)}")
    print(
        f"\nbars for the pipeline: <= {BAR_SECONDS:.0f} s: {pipeline.seconds:.2f} s "
        f"({_met(pipeline.seconds <= BAR_SECONDS)}); peak RSS <= 4 GiB: "
        f"{mib(pipeline.peak_rss)} ({_met(pipeline.peak_rss <= BAR_PEAK_BYTES)}); "
        f">= {BAR_VS_PANDAS:.0f}x faster than pandas: {vs_pandas:.1f}x "
        f"({_met(vs_pandas >= BAR_VS_PANDAS)}); within {BAR_VS_SQL:.0f}x of hand-written SQL: "
        f"{vs_sql:.2f}x ({_met(vs_sql <= BAR_VS_SQL)})"
    )
    if customers != BAR_CUSTOMERS:
        print(f"  (the bars are set for {BAR_CUSTOMERS:,} customers; this run had {customers:,})")


def _ratios(slow: Measured, fast: Measured) -> str:
    return (
        f"{slow.seconds / fast.seconds:.2f}x wall time, "
        f"{slow.cpu_seconds / fast.cpu_seconds:.2f}x CPU time"
    )


def _met(met: bool) -> str:
    return "met" if met else "NOT met"


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


if __name__ == "__main__":
    sys.exit(main())
