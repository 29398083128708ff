"""Grading rules on history (规则回测): what a rule would have done had it been on.

The caller evaluates the rules at a series of past dates (features as of each date, so
nothing reads the future) for the customers active then, and gives the firings together with
the churn that later happened. Each churn has two dates: when the customer **left** (the churn
date; for a repeat buyer found by inactivity, his last purchase) and when it was **known**
(the inactivity threshold later, or the end of a contract's grace period). Definitions
(docs/rules.md):

- an **alert** opens on a date the rule fires for a customer and did not fire on the
  evaluation date before; it stays open while the rule keeps firing;
- an alert is a **hit** when the customer, not known to have churned when it opened, has
  left by ``horizon_days`` after it (he may already have gone quietly); **precision** is
  hits / alerts, the **base rate** the same share over every active customer on every date,
  and **lift** precision / base rate;
- a **churner** is a churn that left inside the backtest with a whole horizon of evaluation
  dates before it; he was **caught** when the rule fired for him between one horizon before
  he left and the day it was known, and the **lead time** is the days from that first firing
  to the day he left (negative: found after he left, before the churn was known);
- **workload** is alerts opened per rep per week.

All of it is vectorised over (date, customer, rule) rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

PACK = "__pack__"  # the row for the whole pack: any rule fires
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class History:
    """The evaluations to grade.

    dates: the evaluation dates, ascending (``datetime64[us]``, UTC).
    population: ``date`` (index into ``dates``), ``customer_id``, ``owner_id`` of every
        customer evaluated (known and not churned) on each date.
    fired: ``date``, ``customer_id``, ``rule`` (a rule key) for every firing.
    churns: ``customer_id``, ``left_at``, ``known_at`` (``datetime64[us]``): every churn
        known at the end.
    """

    dates: npt.NDArray[np.datetime64]
    population: pd.DataFrame
    fired: pd.DataFrame
    churns: pd.DataFrame
    horizon_days: int


@dataclass(frozen=True)
class Grade:
    rule: str
    alerts: int
    customers_alerted: int
    hits: int
    late: int  # opened after the customer had left, before his churn was known
    precision: float | None
    base_rate: float | None
    lift: float | None
    churners: int
    churners_caught: int
    recall: float | None
    median_lead_days: float | None
    alerts_per_rep_week: float | None


def grade(history: History, rules: list[str]) -> list[Grade]:
    """One grade per rule key in ``rules`` (in that order), then one for the whole pack."""
    base_rate = _base_rate(history)
    churners = _churners(history)
    reps = history.population["owner_id"].dropna().nunique()
    weeks = _weeks(history.dates)
    fired = history.fired
    pack = fired[["date", "customer_id"]].drop_duplicates().assign(rule=PACK)
    grades = []
    for key in [*rules, PACK]:
        rows = pack if key == PACK else fired[fired["rule"] == key]
        grades.append(
            _grade(
                key,
                rows,
                history=history,
                base_rate=base_rate,
                churners=churners,
                reps=reps,
                weeks=weeks,
            )
        )
    return grades


def _grade(
    key: str,
    rows: pd.DataFrame,
    *,
    history: History,
    base_rate: float | None,
    churners: pd.DataFrame,
    reps: int,
    weeks: float,
) -> Grade:
    opened = _openings(rows)
    gone, hit = _outcomes(opened, history)
    alerts = len(opened)
    graded = int((~gone).sum())
    precision = float(hit.sum() / graded) if graded else None
    caught, lead = _caught(rows, churners, history)
    return Grade(
        rule=key,
        alerts=alerts,
        customers_alerted=int(opened["customer_id"].nunique()),
        hits=int(hit.sum()),
        late=int(gone.sum()),
        precision=precision,
        base_rate=base_rate,
        lift=precision / base_rate if precision is not None and base_rate else None,
        churners=len(churners),
        churners_caught=caught,
        recall=caught / len(churners) if len(churners) else None,
        median_lead_days=lead,
        alerts_per_rep_week=alerts / reps / weeks if reps and weeks else None,
    )


def _openings(rows: pd.DataFrame) -> pd.DataFrame:
    """Firings whose customer's rule did not fire on the evaluation date before."""
    ordered = rows.sort_values(["customer_id", "date"], kind="stable")
    same = ordered["customer_id"].eq(ordered["customer_id"].shift())
    continued = same & ordered["date"].eq(ordered["date"].shift() + 1)
    return ordered[~continued]


def _outcomes(
    frame: pd.DataFrame, history: History
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """For each (date, customer_id) row, from the customer's first churn not yet known on the
    date: (gone, hit): had he already left on the date; does he leave within the horizon
    after it."""
    if frame.empty:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    at = pd.DataFrame(
        {
            "at": history.dates[frame["date"].to_numpy()],
            "customer_id": frame["customer_id"].to_numpy(),
            "row": np.arange(len(frame)),
        }
    ).sort_values("at", kind="stable")
    churns = history.churns.sort_values("known_at", kind="stable")
    matched = pd.merge_asof(
        at,
        churns[["customer_id", "known_at", "left_at"]].assign(at=churns["known_at"]),
        on="at",
        by="customer_id",
        direction="forward",
        allow_exact_matches=False,
    )
    left = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[us]")
    left[matched["row"].to_numpy()] = matched["left_at"].to_numpy(dtype="datetime64[us]")
    day = history.dates[frame["date"].to_numpy()]
    horizon = np.timedelta64(history.horizon_days, "D")
    gone = ~np.isnat(left) & (left <= day)
    return gone, ~gone & ~np.isnat(left) & (left <= day + horizon)


def _base_rate(history: History) -> float | None:
    gone, hit = _outcomes(history.population, history)
    graded = ~gone
    return float(hit[graded].mean()) if graded.any() else None


def _churners(history: History) -> pd.DataFrame:
    """Churns that left inside the backtest with a whole horizon of evaluation dates before
    them, of customers evaluated on a date of that horizon."""
    churns = history.churns
    if len(history.dates) == 0:
        return churns.iloc[0:0].assign(churner=0)
    horizon = np.timedelta64(history.horizon_days, "D")
    first, last = history.dates[0], history.dates[-1]
    left = churns["left_at"].to_numpy(dtype="datetime64[us]")
    inside = churns[(left > first + horizon) & (left <= last)].reset_index(drop=True)
    inside = inside.assign(churner=np.arange(len(inside)))
    seen = _in_window(history.population, inside, history)
    result: pd.DataFrame = inside[inside["churner"].isin(seen["churner"].unique())]
    return result


def _in_window(rows: pd.DataFrame, churners: pd.DataFrame, history: History) -> pd.DataFrame:
    """(row, churner) pairs of the same customer where the row's date falls between one
    horizon before the churner left and the day his churn was known."""
    pairs = rows[["date", "customer_id"]].merge(churners, on="customer_id")
    at = history.dates[pairs["date"].to_numpy()]
    left = pairs["left_at"].to_numpy(dtype="datetime64[us]")
    known = pairs["known_at"].to_numpy(dtype="datetime64[us]")
    inside = (at >= left - np.timedelta64(history.horizon_days, "D")) & (at < known)
    result: pd.DataFrame = pairs[inside].assign(at=at[inside])
    return result


def _caught(
    rows: pd.DataFrame, churners: pd.DataFrame, history: History
) -> tuple[int, float | None]:
    if churners.empty or rows.empty:
        return 0, None
    firings = _in_window(rows, churners, history)
    if firings.empty:
        return 0, None
    first = firings.groupby("churner").agg(first=("at", "min"), left_at=("left_at", "first"))
    lead = (
        first["left_at"].to_numpy(dtype="datetime64[us]")
        - first["first"].to_numpy(dtype="datetime64[us]")
    ) / _DAY
    return len(first), float(np.median(lead))


def _weeks(dates: npt.NDArray[np.datetime64]) -> float:
    if len(dates) < 2:
        return 1.0 if len(dates) else 0.0
    step = (dates[1] - dates[0]) / _DAY
    return float(len(dates) * step / 7)


def churner_catches(history: History, rule: str) -> pd.DataFrame:
    """The churners of the backtest (``customer_id``, ``left_at``, ``known_at``) with
    ``caught`` and ``first_alert`` (NaT when not caught) for one rule key (or ``PACK``):
    the customers behind the "churners caught" figure."""
    churners = _churners(history)
    fired = history.fired
    rows = fired if rule == PACK else fired[fired["rule"] == rule]
    firings = _in_window(rows, churners, history)
    first = firings.groupby("churner")["at"].min()
    found = churners.assign(first_alert=churners["churner"].map(first))
    found["caught"] = found["first_alert"].notna()
    result: pd.DataFrame = found.drop(columns="churner").reset_index(drop=True)
    return result
