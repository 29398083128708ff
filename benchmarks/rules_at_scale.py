"""How fast every rule of the default pack, and the health score, run for 1,000,000 customers.

The data is the demo company's Parquet mirror that ``features_at_scale.py`` makes and keeps in
``--data`` (made first when missing or of another company: about 5.5 minutes). Everything runs
in one freshly spawned process (multiprocessing's "spawn"), so that its memory is its own:

1. Not measured, printed for context: the assessment table as of ``--as-of`` (default
   2026-11-01 00:00 UTC), ``churnradar.workflow.assessment.assessment_table`` (every catalogue
   feature with the customer's segment, business model and owner), computed once over
   ``open_mirror`` and kept in a DuckDB temporary table. Everything below reads that table.
2. The pipeline under test, three programs executed to Arrow with ``to_pyarrow()``:
   ``rules``, ``rule_firings(pack, table)``, every enabled rule for every customer in one pass;
   ``health``, ``health_scores(pack.health, table)``; and ``rules + health``, the two joined on
   customer_id in one query, as a daily run reads them.
3. The baseline, in the same process: the same rules written by hand with numpy on the same
   table fetched to pandas (only the columns the rules read), one vectorised boolean mask per
   rule, mirroring ``src/churnradar/warning/default_pack.yaml``: per-segment thresholds, scopes,
   ``not``, ``ref`` x factor, and a comparison with a missing value false (NaN compares false).

Each program runs ``--repeat`` times (default 3) in turn and keeps its fastest run. Seconds are
wall time from building the expression to the Arrow result (the bar's figure); CPU seconds (all
threads) and the load average at the start are printed beside them, as the machine may be
shared. Peak RSS is the process's high-water mark during the program: reset before it (Linux:
``/proc/self/clear_refs``), so it includes what the process already held ('before', the
temporary table among it). Apart from the measured run, each pipeline program is split into its
phases, each timed once per repeat, the fastest kept: building the Ibis expression, compiling
it to SQL (``backend.compile``) and executing that SQL on DuckDB to Arrow.

The cross-check: the customers each rule fires for, from the rules program, from the joined
program and from pandas, printed side by side with the number of customers on whom pipeline
and pandas disagree. Any difference is printed with an example and the exit status is 1.

The bar, printed and never asserted: every rule for 1,000,000 customers in <= 5 s.

    .venv/bin/python benchmarks/rules_at_scale.py                      # 1,000,000 customers
    .venv/bin/python benchmarks/rules_at_scale.py --customers 20000 --data /tmp/bench-20k
    .venv/bin/python benchmarks/rules_at_scale.py --repeat 1 --as-of 2026-06-01

At 1,000,000 customers the whole script takes 1.5 to 2 minutes with the mirror in place, a
third of it the assessment table; the process peaks at about 2.5 GiB.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from features_at_scale import DEFAULT_DATA, _instant, ensure_data, in_child, mib
from measure import peak_rss

from churnradar.warning import RulePack
from churnradar.warning.spec import condition_features

BAR_SECONDS = 5.0
BAR_CUSTOMERS = 1_000_000
TABLE = "rules_assessment"  # the temporary table the programs read

RULES = "rules"
HEALTH = "health"
BOTH = "rules + health"
BASELINE = "pandas baseline"
PIPELINE = (RULES, HEALTH, BOTH)

# what the hand-written rules read: the attributes and the features of default_pack.yaml
BASELINE_COLUMNS = (
    "customer_id",
    "segment",
    "business_model",
    "tenure_days",
    "days_since_last_follow_up",
    "usual_follow_up_interval_days",
    "last_order_amount",
    "avg_order_amount_365d",
    "orders_365d",
    "days_since_last_order",
    "complaints_90d",
    "latest_complaint_wait_hours",
    "mean_first_response_hours_365d",
    "tickets_90d",
    "inbound_change_90d",
    "inbound_90d",
    "key_contact_changed_90d",
    "owner_changed_90d",
    "purchase_cycle_ratio",
    "orders_total",
    "has_contract",
    "days_to_contract_end",
    "activity_ratio",
    "follow_ups_90d",
    "digital_activity_ratio",
    "latest_nps",
    "nps_change",
    "csat_change",
    "competitor_mentions_90d",
    "price_change_ratio",
    "last_order_amount_ratio",
)


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
        default=3,
        help="run each program this many times (in turn, in the same process) and keep the "
        "fastest (default 3)",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    ensure_data(args.data, customers=args.customers, seed=args.seed)
    print(f"\nrules as of {args.as_of.isoformat()}")
    outcome: Outcome = in_child(rules_in_child, args.data, args.as_of, max(args.repeat, 1))
    print_outcome(outcome)
    disagreeing = print_firings(outcome)
    print_summary(outcome, customers=args.customers)
    print(f"\nthe whole script took {time.perf_counter() - started:.0f} s")
    if disagreeing:
        print(
            f"\nFAILED: the pipeline and the pandas baseline disagree on {disagreeing} rule(s); "
            "see the table above",
            file=sys.stderr,
        )
        return 1
    return 0


# measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    name: str
    seconds: float
    # user + system, all threads: less sensitive than wall time to a busy machine
    cpu_seconds: float
    peak_rss: int  # the process's peak RSS during the program (or since it started, see reset)
    rss_before: int  # its RSS when the program began
    load: float  # the machine's 1-minute load average when the program began
    rows: int
    columns: int
    # seconds of each phase, timed apart from the measured run: build, compile, execute for
    # the pipeline; fetch, evaluate (inside the measured run) for the baseline
    phases: dict[str, float] = field(default_factory=dict)


class Stopwatch:
    """Wall and CPU seconds of the work and the process's peak RSS during it."""

    def __init__(self) -> None:
        gc.collect()
        self.reset = reset_peak_rss()
        self.rss_before = current_rss()
        self.load = os.getloadavg()[0]
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self.seconds = self.cpu_seconds = 0.0
        self.peak_rss = 0

    def stop(self) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu
        self.peak_rss = peak_rss()

    def measured(self, name: str, rows: int, columns: int, phases: dict[str, float]) -> Measured:
        return Measured(
            name=name,
            seconds=self.seconds,
            cpu_seconds=self.cpu_seconds,
            peak_rss=self.peak_rss,
            rss_before=self.rss_before,
            load=self.load,
            rows=rows,
            columns=columns,
            phases=phases,
        )


def reset_peak_rss() -> bool:
    """Set the process's peak RSS (VmHWM) to its current RSS; False where that is not possible
    (not Linux, or not allowed), and the peak is then the process's since it started."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def current_rss() -> int:
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return peak_rss()


def seconds_of(work: Callable[[], Any]) -> tuple[float, Any]:
    clock = time.perf_counter()
    result = work()
    return time.perf_counter() - clock, result


# the child process ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    customers: int
    columns: int  # of the assessment table
    assessment: Measured
    runs: dict[str, list[Measured]]  # every run of every program, in order
    sql_chars: dict[str, int]  # the size of each pipeline program's SQL
    counts: dict[str, dict[str, int]]  # rule key -> program -> customers it fires for
    differing: dict[str, int]  # rule key -> customers on whom pipeline and pandas disagree
    examples: dict[str, str]  # rule key -> one disagreeing customer, with his features
    problems: list[str]  # disagreements that are not about one rule
    tiers: dict[str, int]  # customers per risk tier, from the health program
    peak_reset: bool  # whether the peak RSS could be reset before each program


def rules_in_child(folder: Path, as_of: datetime, repeat: int) -> Outcome:
    import ibis

    from churnradar.analytics import open_mirror
    from churnradar.warning import default_pack, health_scores, rule_firings
    from churnradar.workflow.assessment import assessment_table

    # DuckDB 2 warns about the method Ibis 12 calls to fetch Arrow
    warnings.filterwarnings("ignore", "fetch_arrow_table", DeprecationWarning)
    pack = default_pack()

    watch = Stopwatch()
    tables = open_mirror(folder)
    backend = ibis.get_backend(tables.customers)
    backend.raw_sql("SET enable_progress_bar = false")
    table = backend.create_table(TABLE, assessment_table(tables, as_of), temp=True)
    rows = table.count().to_pyarrow().as_py()
    watch.stop()
    assessment = watch.measured("assessment table", rows, len(table.columns), {})

    programs: dict[str, Callable[[], Any]] = {
        RULES: lambda: rule_firings(pack, table),
        HEALTH: lambda: health_scores(pack.health, table),
        BOTH: lambda: rule_firings(pack, table).join(
            health_scores(pack.health, table), "customer_id"
        ),
    }
    runs: dict[str, list[Measured]] = {name: [] for name in (*PIPELINE, BASELINE)}
    sql_chars: dict[str, int] = {}
    last: dict[str, pa.Table] = {}
    for _ in range(repeat):
        inputs = fired = pd.DataFrame()  # the previous baseline's frames go first
        for name, build in programs.items():
            last.pop(name, None)  # the previous run's result goes before this one is measured
            watch = Stopwatch()
            result = build().to_pyarrow()
            watch.stop()
            phases, sql_chars[name] = pipeline_phases(backend, build)
            runs[name].append(watch.measured(name, result.num_rows, result.num_columns, phases))
            last[name] = result
            del result
        measured, inputs, fired = run_baseline(backend)
        runs[BASELINE].append(measured)

    check = cross_check(pack, last[RULES], last[BOTH], inputs, fired)
    tiers = pc.value_counts(last[HEALTH].column("risk_tier")).to_pylist()
    return Outcome(
        customers=assessment.rows,
        columns=assessment.columns,
        assessment=assessment,
        runs=runs,
        sql_chars=sql_chars,
        counts=check.counts,
        differing=check.differing,
        examples=check.examples,
        problems=check.problems,
        tiers={str(t["values"]): int(t["counts"]) for t in tiers},
        peak_reset=watch.reset,
    )


def pipeline_phases(backend: Any, build: Callable[[], Any]) -> tuple[dict[str, float], int]:
    """The seconds of building the expression, compiling it to SQL and executing the SQL to
    Arrow, and the SQL's length."""
    build_seconds, expression = seconds_of(build)
    compile_seconds, sql = seconds_of(lambda: backend.compile(expression))
    execute_seconds, _ = seconds_of(lambda: backend.con.sql(sql).to_arrow_table())
    phases = {"build": build_seconds, "compile": compile_seconds, "execute": execute_seconds}
    return phases, len(sql)


# the pandas baseline -------------------------------------------------------------------------


def run_baseline(backend: Any) -> tuple[Measured, pd.DataFrame, pd.DataFrame]:
    """Fetch the columns the rules read to pandas, then evaluate the rules with numpy: the
    figures, the inputs and the result (customer_id and a boolean column per rule)."""
    watch = Stopwatch()
    query = f"SELECT {', '.join(BASELINE_COLUMNS)} FROM {TABLE}"
    fetch_seconds, frame = seconds_of(lambda: backend.con.sql(query).to_arrow_table().to_pandas())
    evaluate_seconds, fired = seconds_of(lambda: pandas_firings(frame))
    watch.stop()
    phases = {"fetch": fetch_seconds, "evaluate": evaluate_seconds}
    result = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(), **fired})
    measured = watch.measured(BASELINE, len(result), len(result.columns), phases)
    return measured, frame, result


def pandas_firings(frame: pd.DataFrame) -> dict[str, npt.NDArray[np.bool_]]:
    """The 16 rules of default_pack.yaml, by hand: a boolean per customer. A missing value is
    NaN, and every comparison with NaN is false, as a comparison with a missing value is in a
    rule; ``not`` of such a comparison is therefore true."""

    def number(name: str) -> npt.NDArray[np.float64]:
        values: npt.NDArray[np.float64] = frame[name].to_numpy(np.float64, na_value=np.nan)
        return values

    segment = frame["segment"].to_numpy(object)
    model = frame["business_model"].to_numpy(object)
    contract, noncontract = model == "contract", model == "noncontract"
    tenure = number("tenure_days")
    follow_up = number("days_since_last_follow_up")
    last_order = number("days_since_last_order")
    complaints = number("complaints_90d")
    cycle = number("purchase_cycle_ratio")
    follow_up_limit = np.select(
        [segment == "大客户", segment == "小微客户"], [45.0, 90.0], default=60.0
    )
    return {
        "no_follow_up": (tenure >= 60)
        & (follow_up > follow_up_limit)
        & ~(follow_up <= number("usual_follow_up_interval_days") * 2),
        "order_below_usual": (number("last_order_amount") < number("avg_order_amount_365d") * 0.6)
        & (number("orders_365d") >= 3)
        & (last_order < 90),
        "complaints": complaints >= 2,
        "slow_complaint_response": (number("latest_complaint_wait_hours") >= 72)
        & (complaints >= 1),
        "slow_service": (number("mean_first_response_hours_365d") > 36)
        & (number("tickets_90d") >= 1),
        "quiet_after_complaint": noncontract & (last_order > 60) & (complaints >= 1),
        "feedback_dropping": (tenure >= 180)
        & (number("inbound_change_90d") <= -3)
        & (number("inbound_90d") <= 1),
        "key_contact_changed": (number("key_contact_changed_90d") == 1) & ~(follow_up <= 14),
        "owner_changed": number("owner_changed_90d") == 1,
        "purchase_cycle_stretching": noncontract & (cycle > 2) & (number("orders_total") >= 3),
        "renewal_overdue": contract & (number("has_contract") == 0),
        "contract_ending_quiet": contract
        & (number("days_to_contract_end") <= 60)
        & ((number("activity_ratio") < 0.6) | (number("follow_ups_90d") == 0)),
        "activity_falling": (tenure >= 120) & (number("digital_activity_ratio") < 0.3),
        "unhappy_survey": (number("latest_nps") <= 4)
        | (number("nps_change") <= -3)
        | (number("csat_change") <= -2),
        "competitor_mentioned": number("competitor_mentions_90d") >= 1,
        "price_rise_felt": noncontract
        & (number("price_change_ratio") >= 1.08)
        & ((cycle > 1.3) | (number("last_order_amount_ratio") < 0.8)),
    }


# the cross-check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CrossCheck:
    counts: dict[str, dict[str, int]]
    differing: dict[str, int]
    examples: dict[str, str]
    problems: list[str]


def cross_check(
    pack: RulePack, rules: pa.Table, joined: pa.Table, inputs: pd.DataFrame, fired: pd.DataFrame
) -> CrossCheck:
    """Per rule, the customers it fires for in each program, and the customers on whom the
    pipeline and pandas disagree (rows matched by customer_id), with an example each."""
    problems: list[str] = []
    order = np.argsort(fired["customer_id"].to_numpy(), kind="stable")
    reference = fired.iloc[order].reset_index(drop=True)
    inputs = inputs.iloc[order].reset_index(drop=True)
    ids = reference["customer_id"].to_numpy()
    aligned: dict[str, pa.Table] = {}
    for name, result in ((RULES, rules), (BOTH, joined)):
        ordered = result.sort_by("customer_id")
        if np.array_equal(ordered.column("customer_id").to_numpy(), ids):
            aligned[name] = ordered
        else:
            problems.append(
                f"{name} has {ordered.num_rows:,} rows and pandas {len(ids):,}, "
                "or their customer ids differ"
            )
    keys = [rule.key for rule in pack.enabled]
    extra = sorted(set(reference.columns) - {"customer_id", *keys})
    if extra:
        problems.append(f"rules of the baseline not in the pack: {', '.join(extra)}")
    counts: dict[str, dict[str, int]] = {}
    differing: dict[str, int] = {}
    examples: dict[str, str] = {}
    for rule in pack.enabled:
        key = rule.key
        counts[key] = {}
        found: dict[str, npt.NDArray[np.bool_]] = {}
        for name, table in aligned.items():
            if key not in table.column_names:
                problems.append(f"{name} has no column {key}")
                continue
            column = table.column(key)
            if column.null_count:
                problems.append(f"{name}.{key} is null for {column.null_count:,} customers")
            found[name] = column.fill_null(False).to_numpy(zero_copy_only=False)
            counts[key][name] = int(found[name].sum())
        if key not in reference.columns:
            problems.append(f"rule {key} of the pack is not in the baseline")
            continue
        expected = reference[key].to_numpy()
        counts[key][BASELINE] = int(expected.sum())
        wrong = np.zeros(len(expected), dtype=bool)
        for fires in found.values():
            wrong |= fires != expected
        differing[key] = int(wrong.sum())
        if differing[key]:
            at = int(np.flatnonzero(wrong)[0])
            row = inputs.iloc[at]
            read = ["segment", "business_model", "tenure_days", *condition_features(rule.when)]
            values = ", ".join(f"{name}={row[name]}" for name in dict.fromkeys(read))
            pipeline = {name: bool(found[name][at]) for name in found}
            examples[key] = (
                f"customer {ids[at]}: {values}; pipeline {pipeline}, pandas {bool(expected[at])}"
            )
    return CrossCheck(counts, differing, examples, problems)


# the report ----------------------------------------------------------------------------------


def fastest(runs: list[Measured]) -> Measured:
    """The fastest run, with the peak RSS of the run that peaked highest (and its RSS before)
    and each phase's fastest time."""
    best = min(runs, key=lambda run: run.seconds)
    highest = max(runs, key=lambda run: run.peak_rss)
    phases = {name: min(run.phases[name] for run in runs) for name in best.phases}
    return replace(best, peak_rss=highest.peak_rss, rss_before=highest.rss_before, phases=phases)


def print_outcome(outcome: Outcome) -> None:
    made = outcome.assessment
    print(
        f"assessment table (not measured): {outcome.customers:,} customers x "
        f"{outcome.columns} columns in a DuckDB temporary table, {made.seconds:.1f} s, "
        f"CPU {made.cpu_seconds:.1f} s, peak RSS {mib(made.peak_rss)} (load {made.load:.1f})"
    )
    for name, runs in outcome.runs.items():
        result = fastest(runs)
        each = ", ".join(f"{run.seconds:.2f} s (load {run.load:.1f})" for run in runs)
        print(
            f"{name}: {result.seconds:.2f} s, CPU {result.cpu_seconds:.2f} s, peak RSS "
            f"{mib(result.peak_rss)} ({mib(result.rss_before)} before), {result.rows:,} rows, "
            f"{result.columns} columns" + (f"; runs: {each}" if len(runs) > 1 else "")
        )
    if not outcome.peak_reset:
        print("  (the peak RSS could not be reset: each is the process's peak since it started)")

    print(f"\nphases, fastest of {len(outcome.runs[RULES])} (timed apart from the runs above):")
    print(f"{'program':<18}{'build':>8}{'compile':>9}{'execute':>9}{'SQL chars':>11}")
    for name in PIPELINE:
        phases = fastest(outcome.runs[name]).phases
        print(
            f"{name:<18}{phases['build']:>8.3f}{phases['compile']:>9.3f}"
            f"{phases['execute']:>9.3f}{outcome.sql_chars[name]:>11,}"
        )
    phases = fastest(outcome.runs[BASELINE]).phases
    print(
        f"{BASELINE:<18} fetch to pandas {phases['fetch']:.3f} s, "
        f"evaluate {phases['evaluate']:.3f} s"
    )
    tiers = ", ".join(f"{tier} {count:,}" for tier, count in sorted(outcome.tiers.items()))
    print(f"risk tiers: {tiers}")


def print_firings(outcome: Outcome) -> int:
    """The customers each rule fires for, side by side; returns the number of rules on which
    the programs disagree (and any problem that is not about one rule counts as one)."""
    print(f"\ncustomers each rule fires for, of {outcome.customers:,}:")
    print(f"{'rule':<27}{RULES:>10}{BOTH:>16}{'pandas':>10}{'disagree':>10}")
    disagreeing = 0
    for key, counts in outcome.counts.items():
        shown = [f"{counts[name]:,}" if name in counts else "-" for name in (*PIPELINE, BASELINE)]
        differ = outcome.differing.get(key)
        same_counts = len(set(counts.values())) == 1
        flag = "" if same_counts and differ == 0 else "  <- MISMATCH"
        disagreeing += bool(flag)
        print(
            f"{key:<27}{shown[0]:>10}{shown[2]:>16}{shown[3]:>10}"
            f"{'-' if differ is None else f'{differ:,}':>10}{flag}"
        )
    for key, example in outcome.examples.items():
        print(f"  {key}: e.g. {example}")
    for problem in outcome.problems:
        print(f"  MISMATCH: {problem}")
    disagreeing += len(outcome.problems)
    if not disagreeing:
        print(
            f"  all {len(outcome.counts)} rules fire for the same customers in the pipeline "
            "and in pandas"
        )
    return disagreeing


def print_summary(outcome: Outcome, *, customers: int) -> None:
    results = {name: fastest(runs) for name, runs in outcome.runs.items()}
    print(f"\n{'program':<18}{'seconds':>9}{'CPU s':>8}{'load':>6}{'peak RSS':>11}{'before':>11}")
    for result in results.values():
        print(
            f"{result.name:<18}{result.seconds:>9.2f}{result.cpu_seconds:>8.2f}"
            f"{result.load:>6.1f}{mib(result.peak_rss):>11}{mib(result.rss_before):>11}"
        )
    print(
        "'load' is the machine's 1-minute load average when the work began, on "
        f"{os.cpu_count()} cores: above that, the programs shared the CPU with others."
    )
    rules, both, baseline = results[RULES], results[BOTH], results[BASELINE]
    evaluate = baseline.phases["evaluate"]
    print(f"pipeline rules / pandas baseline (fetch + evaluate): {_ratios(rules, baseline)}")
    print(
        f"pipeline rules / pandas evaluation alone (the frame already fetched): "
        f"{rules.seconds / evaluate:.2f}x wall time"
    )
    print(
        f"\nbar: every rule for {customers:,} customers <= {BAR_SECONDS:.0f} s: "
        f"{rules.seconds:.2f} s ({_met(rules.seconds <= BAR_SECONDS)}); with the health score "
        f"in the same query: {both.seconds:.2f} s"
    )
    if customers != BAR_CUSTOMERS:
        print(f"  (the bar is set for {BAR_CUSTOMERS:,} customers; this run had {customers:,})")


def _ratios(numerator: Measured, denominator: Measured) -> str:
    return (
        f"{numerator.seconds / denominator.seconds:.2f}x wall time, "
        f"{numerator.cpu_seconds / denominator.cpu_seconds:.2f}x CPU time"
    )


def _met(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
