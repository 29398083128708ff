"""The rejected-rows file: the rows an import refused, as the user wrote them, with the reason.

The file re-imports as it is: its header is one row (a two-row header written as its joined
labels), and the source row number and the reason are just two more columns. A CSV is UTF-8
with a BOM, so Excel opens it with the Chinese intact; a workbook keeps dates as dates.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from churnradar.ingest.readers import Layout

SUFFIXES = frozenset({".csv", ".xlsx"})


class RejectedRowsWriter:
    """Writes rejected rows so the user can fix and re-import them: the original header row, the
    original cells, plus a column with the reason.

    Columns: ``row_header`` (the source row number), the source's labels, ``reason_header``.
    Cells of a row wider than the first rows written come after the reason, so none is lost.
    The file is created on the first row written: no rejected rows, no file.
    """

    def __init__(self, path: Path, layout: Layout, *, reason_header: str, row_header: str) -> None:
        if path.suffix.lower() not in SUFFIXES:
            raise ValueError(f"rejected rows are written as .csv or .xlsx, not {path.name}")
        self.path, self.layout = path, layout
        # a rejected file imported again brings its own row and reason columns: replaced,
        # not repeated
        labels = layout.labels
        self._width = len(labels)
        self._kept = [
            i for i, label in enumerate(labels) if label not in {row_header, reason_header}
        ]
        self._header = [row_header, *(labels[i] for i in self._kept), reason_header]
        self._sink: _Sink | None = None
        self._count = 0

    @property
    def count(self) -> int:
        """Rows written so far."""
        return self._count

    def write(
        self, frame: pd.DataFrame, rows: np.ndarray, reasons: Sequence[str] | pd.Series
    ) -> None:
        """Append rows of a ``RawChunk.frame`` (any subset, positional columns), their source
        row numbers and one reason each."""
        reasons = reasons.tolist() if isinstance(reasons, pd.Series) else list(reasons)
        if not len(frame) == len(rows) == len(reasons):
            raise ValueError(
                f"{len(frame)} rows, {len(rows)} row numbers and {len(reasons)} reasons"
            )
        if not len(frame):
            return
        if self._sink is None:
            self._sink = self._open()
        width = self._width
        for number, cells, reason in zip(
            rows.tolist(), frame.itertuples(index=False, name=None), reasons, strict=True
        ):
            padded = [*cells[:width], *[None] * (width - len(cells))]
            kept = [padded[i] for i in self._kept]
            self._sink.write([int(number), *kept, reason, *cells[width:]])
        self._count += len(frame)

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open(self) -> _Sink:
        sink: _Sink
        if self.path.suffix.lower() == ".csv":
            sink = _CsvSink(self.path)
        else:
            sink = _WorkbookSink(self.path, self.layout.sheet)
        sink.write(self._header)
        return sink


class _Sink(Protocol):
    def write(self, cells: list[Any]) -> None: ...

    def close(self) -> None: ...


class _CsvSink:
    def __init__(self, path: Path) -> None:
        self._file: IO[str] = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file)

    def write(self, cells: list[Any]) -> None:
        self._writer.writerow([_csv_text(cell) for cell in cells])

    def close(self) -> None:
        self._file.close()


class _WorkbookSink:
    """openpyxl's write-only mode streams rows to a temporary file until ``save``."""

    def __init__(self, path: Path, sheet: str | None) -> None:
        self._path = path
        self._book = Workbook(write_only=True)
        self._sheet = self._book.create_sheet(sheet)

    def write(self, cells: list[Any]) -> None:
        self._sheet.append([self._cell(value) for value in cells])

    def _cell(self, value: Any) -> Any:
        if _missing(value):
            return None
        if not isinstance(value, str):
            return value
        # Control characters are not allowed in a workbook; a leading "=" would be a formula.
        cell = WriteOnlyCell(self._sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.data_type = "s"
        return cell

    def close(self) -> None:
        self._book.save(self._path)
        self._book.close()


def _csv_text(value: Any) -> str:
    """A cell as Excel shows it: 3 for 3.0, TRUE, 2025-01-02 13:30:00."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _missing(value: Any) -> bool:
    """None, or the NaN pandas may put in an object column that was reindexed."""
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
