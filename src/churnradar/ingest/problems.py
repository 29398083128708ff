"""Collecting what is wrong with the rows of a chunk, a column at a time.

Each check yields a column of problem codes (``None`` where the cell is fine); the collector
keeps them as small frames and, at the end, says which rows are rejected and why. Messages are
rendered only for rejected rows, in the user's language, when the reasons are written out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churnradar.errors import Problem
from churnradar.i18n import LocalisedText, translate


@dataclass(frozen=True)
class Where:
    """The column a problem is reported in: its header as written and the field it feeds."""

    header: str
    field: str


class ProblemLog:
    """Problems of the rows of one chunk, by position in the chunk (0..n-1)."""

    def __init__(self, rows: np.ndarray, headers: Mapping[str, str] | None = None) -> None:
        self.rows = rows
        self.headers = dict(headers or {})  # field name -> its column's header
        self._parts: list[pd.DataFrame] = []

    def add(
        self,
        where: Where,
        codes: pd.Series,
        values: pd.Series | None = None,
        params: Mapping[str, Any] | None = None,
        row_params: Mapping[str, pd.Series] | None = None,
    ) -> None:
        """Record ``codes`` (one per row, None/NA where fine) found in the column ``where``;
        ``values`` are the cells as written, ``params`` fill the message, ``row_params`` too
        but differ per row."""
        hit = codes.notna().to_numpy()
        if not hit.any():
            return
        positions = np.flatnonzero(hit)
        part = pd.DataFrame(
            {
                "position": positions,
                "header": where.header,
                "field": where.field,
                "code": codes.to_numpy()[hit],
                "value": values.to_numpy()[hit] if values is not None else None,
            }
        )
        extra: dict[str, Any] = dict(params or {})
        per_row = {name: series.to_numpy()[hit] for name, series in (row_params or {}).items()}
        part["params"] = pd.Series(
            [
                {**extra, **{name: column[i] for name, column in per_row.items()}}
                for i in range(len(positions))
            ]
            if per_row
            else [extra] * len(positions)
        )
        self._parts.append(part)

    def rejected(self, size: int) -> np.ndarray:
        """A boolean mask of the chunk's rows that have at least one problem."""
        mask = np.zeros(size, dtype=bool)
        for part in self._parts:
            mask[part["position"].to_numpy()] = True
        return mask

    def frame(self) -> pd.DataFrame:
        """All problems, in row order, with the row number as the user sees it."""
        if not self._parts:
            return pd.DataFrame(
                columns=["position", "row", "header", "field", "code", "value", "params"]
            )
        problems = pd.concat(self._parts, ignore_index=True)
        problems["row"] = self.rows[problems["position"].to_numpy()]
        return problems.sort_values(["position"], kind="stable").reset_index(drop=True)


def flagged(mask: Any, code: str) -> pd.Series:
    """A column of problem codes: ``code`` where ``mask`` holds, None elsewhere."""
    hits = np.asarray(mask, dtype=bool)
    codes = np.full(len(hits), None, dtype=object)
    codes[hits] = code
    return pd.Series(codes)


def render(problem: Mapping[str, Any], locale: str) -> str:
    """One problem as a sentence: 'column 订单金额: "abc" is not an amount ...'."""
    params = dict(problem["params"])
    value = problem["value"]
    params.setdefault("value", "" if value is None or pd.isna(value) else str(value))
    params["field_label"] = LocalisedText(f"ingest.field.{problem['field']}")
    text = translate(f"ingest.problem.{problem['code']}", locale, **params)
    return translate("ingest.problem.in_column", locale, column=problem["header"], text=text)


def reasons(problems: pd.DataFrame, locale: str) -> pd.Series:
    """The reasons of each rejected row joined in one text, indexed by chunk position."""
    if problems.empty:
        return pd.Series([], dtype=object)
    texts = pd.Series(
        [render(problem, locale) for problem in _records(problems)],
        index=problems["position"].to_numpy(),
    )
    joiner = "；" if locale.startswith("zh") else "; "
    several = texts.index.duplicated(keep=False)
    if not several.any():  # most rejected rows have one problem: no grouping needed
        return texts
    joined = texts[several].groupby(level=0).agg(joiner.join)
    return pd.concat([texts[~several], joined]).sort_index()


def as_problems(problems: pd.DataFrame) -> list[Problem]:
    """The problems as :class:`~churnradar.errors.Problem` values, for the batch record."""
    return [
        Problem(
            code=str(record["code"]),
            row=int(record["row"]),
            column=str(record["header"]),
            params={
                **{k: _plain(v) for k, v in dict(record["params"]).items()},
                "value": _plain(record["value"]),
                "field": record["field"],
            },
        )
        for record in _records(problems)
    ]


def _records(problems: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in record.items()} for record in problems.to_dict("records")]


def _plain(value: Any) -> Any:
    """A JSON-friendly form of a cell value."""
    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, str | int | float | bool) else str(value)
