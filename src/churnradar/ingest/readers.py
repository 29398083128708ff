"""Streaming readers of the files users import: CSV exports in any encoding Chinese software
writes, and Excel workbooks read through calamine.

``open_source`` finds the header row and returns a ``SourceFile`` whose ``chunks()`` streams the
rows below it as positional frames of raw cells, each row tagged with the number Excel shows.

Header detection. Among the first ``scan_rows`` non-empty rows, the header is the row that scores
highest, where a row scores the best of ``score`` over its own cells and, when it sits directly
under a non-title row, over its two-row labels (the lower labels, and the parent+child labels);
ties go to the earliest row, except that a row of several cells beats a one-cell title row.
The row directly above the header is its parent row when it is non-empty and not a title (a row
with exactly one non-empty cell). A parent label fills the empty cells to its right only over
columns whose lower cell is non-empty, and a parent cell over an empty lower cell was merged
down both rows, so it becomes that column's header too. A note row of several cells sitting
directly on a one-row header is therefore read as its parent row: ``headers`` stay right, only
``parents`` and ``labels`` carry the note.

Row numbers are what the user sees in Excel, 1-based: blank rows count, and a CSV record with a
quoted line break is one row, as Excel shows it.
"""

from __future__ import annotations

import codecs
import csv
import re
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import numpy as np
import pandas as pd
from python_calamine import (
    CalamineError,
    CalamineSheet,
    CalamineWorkbook,
    SheetTypeEnum,
    SheetVisibleEnum,
)

from churnradar.errors import InvalidInput

Cell = str | int | float | bool | date | datetime | time | timedelta | None
Score = Callable[[list[str]], int]

CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
EXCEL_SUFFIXES = frozenset({".xlsx", ".xlsm", ".xls"})
_DELIMITERS = (",", "\t", ";", "|")
_SAMPLE_BYTES = 1 << 20
_SNIFF_RECORDS = 50
_MAX_COLUMNS = 16_384  # Excel's limit: a wider CSV row is not a table
_WIDER_ROW = re.compile(r"Expected \d+ fields in line \d+, saw (\d+)")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class RawChunk:
    """Data rows as read: one positional column per source column (labels 0..n-1); cells are
    ``str`` from CSV, calamine's typed values from Excel, and ``None`` where empty. ``rows`` is the
    Excel row number of each frame row."""

    frame: pd.DataFrame
    rows: np.ndarray


@dataclass(frozen=True)
class Layout:
    """Where the table sits in the file and what its header says."""

    headers: list[str]
    parents: list[str] | None
    header_row: int
    encoding: str | None
    sheet: str | None

    @property
    def labels(self) -> list[str]:
        """One label per column, a two-row header joined as parent+header where they differ."""
        if self.parents is None:
            return list(self.headers)
        return _labels(self.parents, self.headers)


class SourceFile(ABC):
    """An opened file whose header is found; ``chunks()`` may be called more than once."""

    def __init__(self, path: Path, layout: Layout) -> None:
        self.path, self.layout = path, layout

    @abstractmethod
    def chunks(self, rows: int = 100_000) -> Iterator[RawChunk]:
        """The data rows after the header, read ``rows`` at a time: a chunk holds at most
        ``rows`` rows, fewer when some were fully empty (they are left out, yet counted)."""

    def close(self) -> None:  # noqa: B027 - a CSV holds nothing open between calls
        """Release the file."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_source(
    path: Path,
    *,
    score: Score,
    sheet: str | None = None,
    encoding: str | None = None,
    scan_rows: int = 20,
) -> SourceFile:
    """Open a CSV/TSV/TXT or Excel file and find its header row.

    ``score`` counts the recognised column names among a row's cells. ``sheet`` (Excel) defaults
    to the first visible worksheet; ``encoding`` (CSV) is detected when not given. Errors are
    ``InvalidInput`` with the ``ingest.file.*`` keys, naming the file by its name only.
    """
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InvalidInput("ingest.file.not_found", file=path.name)
    if suffix in EXCEL_SUFFIXES:
        return _ExcelSource.open(path, score=score, sheet=sheet, scan_rows=scan_rows)
    if suffix in CSV_SUFFIXES:
        return _CsvSource.open(path, score=score, encoding=encoding, scan_rows=scan_rows)
    raise InvalidInput("ingest.file.unsupported_format", file=path.name, suffix=suffix)


class _CsvSource(SourceFile):
    def __init__(self, path: Path, layout: Layout, *, delimiter: str, width: int) -> None:
        super().__init__(path, layout)
        self._delimiter, self._width = delimiter, width

    @classmethod
    def open(cls, path: Path, *, score: Score, encoding: str | None, scan_rows: int) -> Self:
        with path.open("rb") as file:
            head = file.read(_SAMPLE_BYTES + 1)
        if not head.strip():
            raise InvalidInput("ingest.file.empty", file=path.name)
        complete = len(head) <= _SAMPLE_BYTES
        encoding = _csv_encoding(path, head[:_SAMPLE_BYTES], complete, encoding)
        sample = codecs.getincrementaldecoder(encoding)("replace").decode(
            head[:_SAMPLE_BYTES], final=complete
        )
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(sample)
        try:
            with path.open(encoding=encoding, newline="") as file:
                found = _scan(csv.reader(file, delimiter=delimiter), scan_rows)
        except UnicodeDecodeError:
            raise _bad_encoding(path, encoding, delimiter) from None
        headers, parents, header_row = _find_header(found, score, scan_rows, path)
        width = max(len(headers), *(len(cells) for _, cells in found))
        layout = Layout(headers, parents, header_row, encoding, sheet=None)
        return cls(path, layout, delimiter=delimiter, width=width)

    def chunks(self, rows: int = 100_000) -> Iterator[RawChunk]:
        done, width, size = 0, self._width, rows
        while True:
            try:
                for frame in self._read(skip=self.layout.header_row + done, width=width, rows=size):
                    first = self.layout.header_row + done + 1
                    done += len(frame)
                    values = frame.to_numpy(dtype=object, copy=True)
                    if chunk := _chunk(values, first, len(self.layout.headers)):
                        yield chunk
                return
            except pd.errors.ParserError as error:
                # The C parser refuses a row wider than the columns it was given, losing the rows
                # of that chunk: read again from the chunk's start, with room for the wide row and
                # fewer rows a chunk so that a chunk's cells stay as many.
                wider = _WIDER_ROW.search(str(error))
                if wider is None or int(wider[1]) > _MAX_COLUMNS:
                    reason = str(error).removeprefix("Error tokenizing data. C error: ")
                    raise InvalidInput(
                        "ingest.file.unreadable", file=self.path.name, reason=reason
                    ) from None
                width = int(wider[1])
                size = max(1, rows * self._width // width)
            except UnicodeDecodeError:
                raise _bad_encoding(self.path, self.layout.encoding, self._delimiter) from None

    def _read(self, *, skip: int, width: int, rows: int) -> Iterator[pd.DataFrame]:
        with pd.read_csv(
            self.path,
            sep=self._delimiter,
            header=None,
            names=range(width),
            skiprows=skip,  # counts records, blank ones included, like Excel's rows
            dtype=object,  # str cells, not pandas 3's inferred string dtype
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            encoding=self.layout.encoding,
            engine="c",
            chunksize=rows,
        ) as reader:
            yield from reader


def _csv_encoding(path: Path, head: bytes, complete: bool, given: str | None) -> str:
    if given is not None:
        try:
            name = codecs.lookup(given).name
        except LookupError:
            raise InvalidInput(
                "ingest.file.unknown_encoding", file=path.name, encoding=given
            ) from None
        return "utf-8-sig" if name == "utf-8" and head.startswith(codecs.BOM_UTF8) else given
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # Not final unless the sample is the whole file: it may end inside a character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        if not _looks_chinese(head):
            raise InvalidInput("ingest.file.unknown_text_encoding", file=path.name) from None
        return "gb18030"  # a superset of GBK and GB2312: what Chinese Excel saves as CSV
    return "utf-8"


_DOUBLE_BYTE = re.compile(rb"[\x81-\xfe][\x00-\xff]")


def _looks_chinese(head: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as GBK: its common characters (GB2312) pair two
    bytes from 0xA1 up, while Latin-1 or cp1252 text (Café) puts a plain letter after each
    high byte, which GBK would silently turn into a wrong Chinese character."""
    pairs = _DOUBLE_BYTE.findall(head)
    ascii_after = sum(1 for pair in pairs if pair[1] < 0x80)
    return not pairs or ascii_after <= 0.3 * len(pairs)


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits most of the first records into the same number (>1) of cells."""
    lines = sample.splitlines(keepends=True)[:_SNIFF_RECORDS]
    best, best_key = ",", (0, 0)
    for delimiter in _DELIMITERS:
        widths = Counter(len(r) for r in csv.reader(lines, delimiter=delimiter) if len(r) > 1)
        if widths:
            width, count = widths.most_common(1)[0]
            if (count, width) > best_key:
                best, best_key = delimiter, (count, width)
    return best


def _bad_encoding(path: Path, encoding: str | None, delimiter: str) -> InvalidInput:
    """The error naming the first record that does not decode, found by a second pass that
    keeps the undecodable bytes as escapes."""
    row = 0
    with path.open(encoding=encoding, errors="surrogateescape", newline="") as file:
        for cells in csv.reader(file, delimiter=delimiter):
            row += 1
            if any(_ESCAPED_BYTE.search(cell) for cell in cells):
                break
    return InvalidInput("ingest.file.bad_encoding", file=path.name, encoding=encoding, row=row)


class _ExcelSource(SourceFile):
    def __init__(
        self, path: Path, layout: Layout, *, book: CalamineWorkbook, sheet: CalamineSheet
    ) -> None:
        super().__init__(path, layout)
        self._book, self._sheet = book, sheet
        self._open = True

    @classmethod
    def open(cls, path: Path, *, score: Score, sheet: str | None, scan_rows: int) -> Self:
        if path.stat().st_size == 0:
            raise InvalidInput("ingest.file.empty", file=path.name)
        try:
            book = CalamineWorkbook.from_path(path)
        except CalamineError as error:
            raise InvalidInput(
                "ingest.file.unreadable", file=path.name, reason=str(error)
            ) from None
        try:
            name = _sheet_name(book, sheet)
            worksheet = book.get_sheet_by_name(name)
            if worksheet.start is None:  # no cell at all; iter_rows() would fail
                raise InvalidInput("ingest.file.empty", file=path.name)
            headers, parents, header_row = _find_header(
                _scan(worksheet.iter_rows(), scan_rows), score, scan_rows, path
            )
        except CalamineError as error:
            book.close()
            raise InvalidInput(
                "ingest.file.unreadable", file=path.name, reason=str(error)
            ) from None
        except InvalidInput:
            book.close()
            raise
        layout = Layout(headers, parents, header_row, encoding=None, sheet=name)
        return cls(path, layout, book=book, sheet=worksheet)

    def chunks(self, rows: int = 100_000) -> Iterator[RawChunk]:
        # calamine's iter_rows() starts at Excel row 1 (leading empty rows come as blank lists)
        # but at the used range's first column: columns are positions in the used range.
        first = self.layout.header_row + 1
        records = islice(self._sheet.iter_rows(), self.layout.header_row, None)
        while batch := list(islice(records, rows)):
            values = np.empty((len(batch), len(batch[0])), dtype=object)
            values[:] = batch  # calamine's rows all span the used range
            if chunk := _chunk(values, first, len(self.layout.headers)):
                yield chunk
            first += len(batch)

    def close(self) -> None:
        if self._open:  # calamine refuses to close a workbook twice
            self._book.close()
            self._open = False


def _sheet_name(book: CalamineWorkbook, sheet: str | None) -> str:
    names: list[str] = book.sheet_names
    if sheet is None:
        visible = [
            meta.name
            for meta in book.sheets_metadata
            if meta.visible == SheetVisibleEnum.Visible and meta.typ == SheetTypeEnum.WorkSheet
        ]
        return (visible or names)[0]
    if sheet not in names:
        raise InvalidInput("ingest.file.unknown_sheet", sheet=sheet, sheets=", ".join(names))
    return sheet


def _scan(records: Iterable[list[Any]], scan_rows: int) -> list[tuple[int, list[str]]]:
    """The first ``scan_rows`` + 1 non-empty rows as (row number, stripped cell texts); the
    extra row tells whether any data follows a header found on the last scanned row."""
    found: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(records, start=1):
        texts = [_text(cell) for cell in cells]
        if any(texts):
            found.append((number, texts))
            if len(found) > scan_rows:
                break
    return found


def _find_header(
    found: list[tuple[int, list[str]]], score: Score, scan_rows: int, path: Path
) -> tuple[list[str], list[str] | None, int]:
    """(headers, parents, header row number) by the rule in the module docstring."""
    best: tuple[int, bool] | None = None
    for index, (number, cells) in enumerate(found[:scan_rows]):
        above = found[index - 1] if index else (0, [])
        parents = None
        if above[0] == number - 1 and _filled(above[1]) > 1:
            parents, headers = _two_row(above[1], cells)
            points = max(score(cells), score(headers), score(_labels(parents, headers)))
        else:
            headers = cells[: _width(cells)]
            points = score(headers)
        key = (points, _filled(cells) > 1)
        if best is None or key > best:
            best, chosen = key, (headers, parents, number)
    if best is None or not any(number > chosen[2] for number, _ in found):
        raise InvalidInput("ingest.file.empty", file=path.name)
    return chosen


def _two_row(upper: list[str], lower: list[str]) -> tuple[list[str], list[str]]:
    """(parents, headers) of a two-row header whose merged cells came unmerged."""
    width = max(_width(upper), _width(lower))
    upper, lower = upper + [""] * width, lower + [""] * width
    parents: list[str] = []
    headers: list[str] = []
    span = ""  # the parent label a horizontal merge carries to the right
    for parent, header in zip(upper[:width], lower[:width], strict=True):
        if parent and not header:  # merged down over both rows
            span = ""
            parents.append(parent)
            headers.append(parent)
        else:
            span = parent or (span if header else "")
            parents.append(span)
            headers.append(header)
    return parents, headers


def _labels(parents: list[str], headers: list[str]) -> list[str]:
    return [
        header if not parent or parent == header else parent + header
        for parent, header in zip(parents, headers, strict=True)
    ]


def _filled(cells: list[str]) -> int:
    return sum(1 for cell in cells if cell)


def _width(cells: list[str]) -> int:
    """Up to the last non-empty cell."""
    return next((i + 1 for i in range(len(cells) - 1, -1, -1) if cells[i]), 0)


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # Excel stores 2025 as 2025.0
    return str(cell).strip()


def _chunk(values: np.ndarray, first: int, headers: int) -> RawChunk | None:
    """The chunk of consecutive rows numbered from ``first``: empty cells made None, empty rows
    dropped, columns cut after the last one holding a value but never narrower than the header."""
    empty = values == ""
    values[empty] = None
    rows = np.arange(first, first + len(values), dtype=np.int64)
    keep = ~empty.all(axis=1)
    if not keep.all():
        values, rows = values[keep], rows[keep]
    if not len(values):
        return None
    extra = values[:, headers:] != None  # noqa: E711 - elementwise over an object array
    width = headers + (int(np.flatnonzero(extra.any(axis=0))[-1]) + 1 if extra.any() else 0)
    if width < values.shape[1]:
        values = values[:, :width]
    return RawChunk(pd.DataFrame(values, dtype=object, copy=False), rows)
