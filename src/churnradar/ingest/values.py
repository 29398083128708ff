"""Parsers for the cells of customer spreadsheets: text, dates, money, counts, yes/no, choices.

CSV cells arrive as text; XLSX cells arrive already typed (numbers, booleans, datetimes).
Each parser returns the typed values and, per cell, a problem code (``ingest.problem.<code>``
in the catalogue), so that bad cells are reported as data instead of raised. Whole columns
go through pyarrow compute kernels; Python code only ever sees distinct values.

Problem codes, and the message parameters they use besides ``value``: ``bad_date``,
``date_too_old``, ``future_date``, ``bad_amount``, ``bad_integer``, ``not_integer``,
``bad_boolean``, ``unknown_value`` (``allowed``), ``below_minimum`` (``minimum``),
``above_maximum`` (``maximum``), ``too_long`` (``limit``, ``length``).
"""

from __future__ import annotations

import datetime as dt
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

T = TypeVar("T")
Mask = npt.NDArray[np.bool_]


class ParsedColumn(NamedTuple):
    values: pd.Series  # typed, on the raw index; NA where the cell was empty or invalid
    errors: pd.Series  # object: None where the cell is fine or empty, else a problem code


# What a cell holds. XLSX cells arrive typed, and one column may mix kinds.
_MISSING, _TEXT, _NUMBER, _BOOL, _MOMENT, _OTHER = range(6)
_ALL = (_TEXT, _NUMBER, _BOOL, _MOMENT, _OTHER)
# infer_dtype's verdicts that mean one kind throughout: most columns need no closer look
_UNIFORM = {"string": _TEXT, "empty": _TEXT, "boolean": _BOOL}
_UNIFORM |= dict.fromkeys(("floating", "integer", "mixed-integer-float"), _NUMBER)
_UNIFORM |= dict.fromkeys(("datetime", "datetime64", "date"), _MOMENT)
# NFKC turns the ideographic and no-break spaces into " "; these it leaves alone.
_BLANKS = " \t\n\r\v\f\x85\u1680\u2028\u2029\u200b\u200c\u200d\u2060\ufeff"
_NFKC_CHANGES = "[^\x00-\x7f\u00a5\u4e00-\u9fff]"  # ASCII, ¥ and CJK ideographs stay as they are


def _kind_of(cls: type) -> int:
    if issubclass(cls, str):
        return _TEXT
    if issubclass(cls, bool | np.bool_):  # before numbers: bool is an int
        return _BOOL
    if issubclass(cls, numbers.Real):
        return _NUMBER
    if issubclass(cls, dt.date | np.datetime64):
        return _MOMENT
    return _OTHER  # datetime.time, timedelta, Decimal, ...: read as their text


def _shown(value: Any) -> str:
    """A typed cell as text: Excel's TRUE/FALSE, ISO dates and times."""
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _numpy(arr: pa.Array) -> npt.NDArray[Any]:
    return np.asarray(arr.to_numpy(zero_copy_only=False))


def _has(test: pa.Array) -> Mask:
    return _numpy(pc.fill_null(test, False))


def _matches(arr: pa.Array, pattern: str) -> Mask:
    return _has(pc.match_substring_regex(arr, pattern))


def _null_if_empty(arr: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, arr.type), arr)


def _clean(arr: pa.Array) -> pa.Array:
    # NFKC only where it may change something: much faster, as ASCII and most Chinese need not.
    changing = _has(pc.invert(pc.string_is_ascii(arr)))
    if changing.any():
        changing[changing] = _matches(arr.filter(changing), _NFKC_CHANGES)
    if changing.any():
        normal = pc.utf8_normalize(arr.filter(changing), "NFKC")
        arr = pc.replace_with_mask(arr, pa.array(changing), normal)
    return _null_if_empty(pc.utf8_trim(arr, _BLANKS))


class _Cells:
    """A raw column sorted by what its cells hold."""

    def __init__(self, raw: pd.Series) -> None:
        if raw.dtype != object and not isinstance(raw.dtype, pd.StringDtype):
            raw = raw.astype(object)
        self.raw = raw
        self.kinds: npt.NDArray[np.int8]
        uniform = _UNIFORM.get(pd.api.types.infer_dtype(raw, skipna=True))
        if uniform is not None:
            self.kinds = np.full(len(raw), uniform, dtype=np.int8)
        else:  # mixed: classify each distinct Python type once
            codes, types = pd.factorize(raw.map(type).to_numpy())
            self.kinds = np.array([_kind_of(t) for t in types], dtype=np.int8)[codes]
        self.kinds[raw.isna().to_numpy()] = _MISSING

    def of(self, *kinds: int) -> Mask:
        found: Mask = np.isin(self.kinds, kinds)
        return found

    @property
    def given(self) -> Mask:
        return self.of(*_ALL)

    def objects(self, mask: Mask) -> npt.NDArray[np.object_]:
        return self.raw.to_numpy(dtype=object)[mask]

    def numbers(self, mask: Mask) -> pa.Array:
        """The number cells under ``mask``: int64 when all are integers, else double."""
        return pa.array(self.objects(mask), from_pandas=True)

    def text(self, *kinds: int) -> pa.Array:
        """Cleaned text of the text cells and those of ``kinds`` (null elsewhere).

        Typed cells become the text Excel shows. Cells blank once cleaned count as missing.
        """
        if isinstance(self.raw.dtype, pd.StringDtype):
            text = pa.array(self.raw, type=pa.large_string())
        else:
            text = pa.nulls(len(self.raw), pa.large_string())
            for kind in {_TEXT, *kinds}:
                if (mask := self.kinds == kind).any():
                    text = pc.replace_with_mask(text, pa.array(mask), self._shown(kind, mask))
        cleaned = _clean(text)
        self.kinds[self.of(_TEXT, *kinds) & _numpy(cleaned.is_null())] = _MISSING
        return cleaned

    def _shown(self, kind: int, mask: Mask) -> pa.Array:
        if kind == _TEXT:
            return pa.array(self.objects(mask), pa.large_string())
        if kind == _NUMBER:  # 123.0 shows as "123", as in Excel
            return pc.cast(self.numbers(mask), pa.large_string())
        codes, distinct = pd.factorize(self.objects(mask))
        shown = np.array([_shown(v) for v in distinct], dtype=object)[codes]
        return pa.array(shown, pa.large_string())


def _errors(index: pd.Index, *problems: tuple[Mask, str]) -> pd.Series:
    """Problem codes per cell; where several apply, the first listed wins."""
    codes = np.full(len(index), None, dtype=object)
    for mask, code in reversed(problems):
        codes[mask] = code
    return pd.Series(codes, index=index, dtype=object)


def _extract(arr: pa.Array, pattern: str) -> dict[str, pa.Array]:
    """The named groups of ``pattern`` ("" if a group took no part, null if no match)."""
    # pyarrow extracts far more slowly than it matches: validate with a match instead.
    found = pc.extract_regex(arr, pattern)
    return {field.name: pc.struct_field(found, field.name) for field in found.type}


def _integers(group: pa.Array, default: int = 0) -> npt.NDArray[np.int64]:
    """Digit strings as int64; ``default`` where empty or null."""
    return _numpy(pc.fill_null(pc.cast(_null_if_empty(group), pa.int64()), default))


def _floats(text: pa.Array, where: Mask | None = None) -> npt.NDArray[np.float64]:
    """Decimal numbers (only ``where`` given), thousands separators dropped; NaN elsewhere."""
    floats = np.full(len(text), np.nan)
    where = _numpy(text.is_valid()) if where is None else where
    digits = pc.replace_substring(_null_if_empty(text.filter(where)), ",", "")
    floats[where] = _numpy(pc.fill_null(pc.cast(digits, pa.float64()), np.nan))
    return floats


def _lookup(
    text: pa.Array, table: Mapping[str, T], *, spaces: bool = True
) -> tuple[npt.NDArray[np.intp], list[T]]:
    """Each cell's position among the table's values (-1 if absent), and those values.

    Cells and keys are compared cleaned and lower-cased, and unless ``spaces`` without
    whitespace. pyarrow's lower-casing stands in for ``str.casefold`` (which differs for ß).
    """

    def fold(arr: pa.Array) -> pa.Array:
        lowered = pc.utf8_lower(arr)
        return lowered if spaces else pc.replace_substring_regex(lowered, r"\s+", "")

    keys = fold(_clean(pa.array(list(table), pa.large_string()))).to_pylist()
    folded: dict[str, T] = {}
    for key, value in zip(keys, table.values(), strict=True):
        if key is None or folded.setdefault(key, value) != value:
            raise ValueError(f"{key!r} is blank or means two things in {dict(table)!r}")
    position = pc.index_in(fold(text), value_set=pa.array(list(folded), text.type))
    return _numpy(pc.fill_null(position, -1)).astype(np.intp), list(folded.values())


def clean_text(raw: pd.Series) -> pd.Series:
    """The cells as trimmed NFKC text (``str`` dtype), NA where empty.

    Typed XLSX cells become the text Excel shows: ``123`` for 123.0, ``TRUE``, ISO dates.
    """
    return pd.Series(_Cells(raw).text(*_ALL), dtype="str", index=raw.index)


# dates ---------------------------------------------------------------------------------------

_DATE = (  # 2025-1-3, 2025/1/3, 2025.1.3, 2025年1月3日, 20250103; then maybe a time and offset
    r"^(?P<year>[0-9]{4})(?P<month>[-/.年][0-9]{1,2}|[0-9]{2})(?P<day>[-/.月][0-9]{1,2}|[0-9]{2})"
    r"(?:[日号]?|(?:[日号]\s*|\s*[Tt]\s*|\s+)(?P<hour>[0-9]{1,2})[:时点](?P<minute>[0-9]{1,2})"
    r"(?:[:分](?P<second>[0-9]{1,2}(?:\.[0-9]{1,9})?)秒?|分)?"
    r"\s*(?P<zone>[Zz]|[-+][0-9]{2}(?::?[0-9]{2})?)?)$"
)
_SERIAL = r"^[0-9]{1,5}(?:\.[0-9]+)?$"  # Excel's day number, from 1; more digits make no serial
_EXCEL_DAY_0 = np.datetime64("1899-12-30", "us")  # in Excel's 1900 date system
# Nanosecond timestamps end here: anything beyond is far too old or far in the future.
_NS_FIRST = pd.Timestamp.min.ceil("s").as_unit("us").to_datetime64()
_NS_LAST = pd.Timestamp.max.floor("s").as_unit("us").to_datetime64()
_US = np.timedelta64(1, "us")
_NAT = np.datetime64("NaT", "us")


def _written_times(text: pa.Array) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Wall-clock times written as text, and the UTC instants of those with an offset."""
    g = _extract(text, _DATE)
    year = _integers(g["year"], 1)
    month, day = (_integers(pc.utf8_ltrim(g[name], "-/.年月"), 1) for name in ("month", "day"))
    hour, minute, second = _integers(g["hour"]), _integers(g["minute"]), _floats(g["second"])
    second = np.nan_to_num(second)
    valid = _numpy(g["year"].is_valid()) & (month >= 1) & (month <= 12) & (day >= 1)
    valid &= (hour < 24) & (minute < 60) & (second < 60)
    months = (year - 1970) * 12 + np.where(valid, month - 1, 0)  # since 1970-01
    date = months.astype("datetime64[M]").astype("datetime64[us]") + (day - 1).astype("m8[D]")
    valid &= date < (months + 1).astype("datetime64[M]")  # 2025-02-30 runs into March
    micros = (hour * 3600 + minute * 60) * 1_000_000 + np.round(second * 1e6).astype(np.int64)
    local = np.where(valid, date + micros * _US, _NAT)

    rest = _numpy(text.is_valid()) & _numpy(g["year"].is_null())  # not written as a date
    rest[rest] = _matches(text.filter(rest), _SERIAL)
    days = _floats(text, rest)
    serial = days >= 1
    millis = np.round(np.where(serial, days, 0) * 86_400_000).astype(np.int64)
    local = np.where(serial, _EXCEL_DAY_0 + millis * 1000 * _US, local)

    zoned = valid & _has(pc.not_equal(g["zone"], ""))
    offset = np.zeros(len(text), dtype=np.int64)  # minutes east of UTC; Z is 0
    if zoned.any():
        zone = pc.replace_substring(g["zone"].filter(zoned), ":", "")  # +0800, +08, Z
        minutes = _integers(pc.utf8_slice_codeunits(zone, 1, 3)) * 60
        minutes += _integers(pc.utf8_slice_codeunits(zone, 3, 5))
        offset[zoned] = np.where(_numpy(pc.starts_with(zone, "-")), -minutes, minutes)
    utc = np.where(zoned, local - offset * 60_000_000 * _US, _NAT)
    return np.where(zoned, _NAT, local), utc


def _typed_times(objects: npt.NDArray[np.object_]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """XLSX datetimes and dates: the naive ones as wall-clock times, the aware ones in UTC."""
    nothing = np.full(len(objects), _NAT)
    try:
        times = pd.DatetimeIndex(objects)
    except (TypeError, ValueError):  # some carry an offset and others none, or another one
        codes, distinct = pd.factorize(objects)
        aware = np.array([getattr(v, "tzinfo", None) is not None for v in distinct])[codes]
        naive, utc = pd.Series(objects), pd.Series(objects)
        naive[aware], utc[~aware] = None, None
        naive_times = pd.DatetimeIndex(naive).as_unit("us").to_numpy()
        utc_times = pd.DatetimeIndex(pd.to_datetime(utc, utc=True)).tz_convert(None)
        return naive_times, utc_times.as_unit("us").to_numpy()
    if times.tz is None:
        return times.as_unit("us").to_numpy(), nothing
    return nothing, times.tz_convert(None).as_unit("us").to_numpy()


def _instant(moment: dt.datetime, zone: ZoneInfo) -> np.datetime64:
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize(zone) if stamp.tz is None else stamp
    return stamp.tz_convert(None).as_unit("us").to_datetime64()


def parse_datetimes(
    raw: pd.Series,
    zone: ZoneInfo,
    *,
    latest: dt.datetime | None = None,
    earliest_year: int = 1970,
) -> ParsedColumn:
    """Dates and times as instants (``datetime64[ns, UTC]``).

    Accepts 2025-01-03, 2025/1/3, 2025.1.3, 2025年1月3日 (or 号) and 20250103, each with an
    optional time (14:05, 14:05:30.123, 14时05分) and offset (Z, +08:00); Excel serial day
    numbers (at most five integer digits); XLSX datetimes and dates. Times without an offset
    are wall-clock times in ``zone``: one a DST change skips moves forward, one it repeats
    is read as standard time. A naive ``latest`` is in ``zone`` too. XLSX time-only cells
    are ``bad_date``.
    """
    cells = _Cells(raw)
    local = np.full(len(raw), _NAT)
    utc = local.copy()
    written = cells.of(_TEXT, _NUMBER, _OTHER)
    if written.any():
        text_local, text_utc = _written_times(cells.text(_NUMBER, _OTHER))
        local[written], utc[written] = text_local[written], text_utc[written]
    typed = cells.of(_MOMENT)
    if typed.any():
        local[typed], utc[typed] = _typed_times(cells.objects(typed))
    placed = pd.DatetimeIndex(local).tz_localize(zone, ambiguous=False, nonexistent="shift_forward")
    instants = np.where(np.isnat(utc), placed.tz_convert(None).to_numpy(), utc)

    parsed = ~np.isnat(instants)
    first = max(_NS_FIRST, _instant(dt.datetime(max(earliest_year, 1), 1, 1), zone))
    last = _NS_LAST if latest is None else min(_NS_LAST, _instant(latest, zone))
    too_old, future = parsed & (instants < first), parsed & (instants > last)
    fine = parsed & ~too_old & ~future
    values = pd.DatetimeIndex(np.where(fine, instants, _NAT).astype("datetime64[ns]"))
    errors = _errors(
        raw.index,
        (cells.given & ~parsed, "bad_date"),
        (too_old, "date_too_old"),
        (future, "future_date"),
    )
    return ParsedColumn(pd.Series(values.tz_localize("UTC"), index=raw.index), errors)


# numbers -------------------------------------------------------------------------------------

_GROUPED = r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+"  # "1,5" is refused: a decimal comma, or a typo?
_CURRENCY = r"(?:¥|rmb|cny|人民币|元|圆)"
_MONEY = (  # a sign before or after the currency, accounting brackets, 万-style units
    rf"(?i)^\(?\s*(?:[-+−]\s*{_CURRENCY}?|{_CURRENCY}\s*[-+−]?)?\s*"
    rf"(?:(?:{_GROUPED})(?:\.[0-9]*)?|\.[0-9]+)\s*[千万亿]?\s*{_CURRENCY}?\s*\)?$"
)
_AROUND_AMOUNT = "()+-−¥RMBCNYrmbcny人民币元圆千万亿 \t"  # trimmed off a valid amount
_DASHES = "-−–—―"  # a cell of dashes is how many sheets write "nothing here"


def _cents(amounts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Rounded half away from zero, as Excel's ROUND: 12.345 is 12.35, not 12.34."""
    hundredths = amounts * 100  # 1234.4999999999998 for 12.345: nudged up by a few ulps
    half = np.copysign(0.5 + np.abs(hundredths) * 8e-16, hundredths)
    rounded: npt.NDArray[np.float64] = np.trunc(hundredths + half) / 100
    return rounded


def parse_money(raw: pd.Series) -> ParsedColumn:
    """Amounts (float64, rounded to cents).

    Accepts XLSX numbers and text such as ``¥1,234.50``, ``1.5万元``, ``3.2亿``, ``RMB 20``,
    ``-5`` and ``(123.00)`` (negative). A dash alone is empty. The range is the caller's.
    """
    cells = _Cells(raw)
    amounts = np.full(len(raw), np.nan)
    numbers = cells.of(_NUMBER)
    if numbers.any():
        amounts[numbers] = _numpy(pc.cast(cells.numbers(numbers), pa.float64()))
    written = cells.of(_TEXT, _OTHER)
    if written.any():
        text = cells.text(_OTHER)
        opened, closed = _has(pc.starts_with(text, "(")), _has(pc.ends_with(text, ")"))
        valid = _matches(text, _MONEY) & (opened == closed)
        scale = np.select([_has(pc.match_substring(text, u)) for u in "千万亿"], [1e3, 1e4, 1e8], 1)
        negative = (
            opened | _has(pc.match_substring(text, "-")) | _has(pc.match_substring(text, "−"))
        )
        digits = pc.utf8_trim(text, _AROUND_AMOUNT)  # much faster than extracting the number
        amounts[written] = (_floats(digits, valid) * scale * np.where(negative, -1, 1))[written]
        cells.kinds[_has(pc.equal(pc.utf8_trim(text, _DASHES), ""))] = _MISSING
    bad = cells.given & ~np.isfinite(amounts)
    values = np.where(bad, np.nan, _cents(amounts))
    return ParsedColumn(pd.Series(values, index=raw.index), _errors(raw.index, (bad, "bad_amount")))


_COUNTED = "件个台次人份套箱单分"  # 3件, 5分: a counting word may follow
_INTEGER = rf"^[-+]?(?:{_GROUPED})(?:\.[0-9]*)?\s*[{_COUNTED}]?$"
_INT64_DIGITS = 18


def parse_integers(raw: pd.Series, *, labels: Mapping[str, int] | None = None) -> ParsedColumn:
    """Whole numbers (``Int64``): ``3``, ``3.0``, ``1,000``, ``3件``, integral XLSX numbers.

    With ``labels``, a cell written as one of its keys (ignoring case) takes its number.
    """
    cells = _Cells(raw)
    text = cells.text(_NUMBER, _OTHER)  # XLSX numbers as Excel shows them: 3.0 is "3"
    read = _matches(text, _INTEGER)
    unsigned = pc.utf8_trim(text, f"+- \t{_COUNTED}")  # 1,000.00
    digits = pc.replace_substring(pc.list_element(pc.split_pattern(unsigned, "."), 0), ",", "")
    read &= _numpy(pc.fill_null(pc.utf8_length(digits), 0)) <= _INT64_DIGITS  # fits int64
    number = _integers(pc.if_else(pa.array(read), digits, pa.scalar(None, digits.type)))
    number = np.where(_matches(text, "^-"), -number, number)
    fractional = read & _matches(text, r"\.[0-9]*[1-9]")
    if labels:
        position, label_values = _lookup(text, labels)
        labelled = position >= 0
        number = np.where(labelled, np.array([*label_values, 0])[position], number)
        read |= labelled
        fractional &= ~labelled
    result = pd.Series(pd.arrays.IntegerArray(number, ~read | fractional), index=raw.index)
    errors = _errors(raw.index, (cells.given & ~read, "bad_integer"), (fractional, "not_integer"))
    return ParsedColumn(result, errors)


# booleans and choices ------------------------------------------------------------------------

_TRUE = ("是", "y", "yes", "true", "t", "1", "√", "✓", "✔", "对", "有", "关键")
_FALSE = ("否", "n", "no", "false", "f", "0", "×", "✗", "✘", "错", "无", "非")
_BOOLEANS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}


def parse_booleans(raw: pd.Series) -> ParsedColumn:
    """Yes/no (``boolean``): 是/否, Y/N, yes/no, true/false, 1/0, √/×, 对/错, 有/无 ...

    XLSX booleans, and numbers 1 and 0, too. Case does not matter.
    """
    cells = _Cells(raw)
    position, meanings = _lookup(cells.text(_NUMBER, _BOOL, _OTHER), _BOOLEANS)
    values = np.array([*meanings, False])[position]
    result = pd.Series(pd.arrays.BooleanArray(values, position < 0), index=raw.index)
    return ParsedColumn(result, _errors(raw.index, (cells.given & (position < 0), "bad_boolean")))


def parse_choices(raw: pd.Series, synonyms: Mapping[str, str]) -> ParsedColumn:
    """The canonical code (object ``str``) for cells naming one of ``synonyms``' keys.

    Matching ignores case and whitespace: ``Phone Call`` finds the key ``phonecall``.
    """
    cells = _Cells(raw)
    position, codes = _lookup(cells.text(*_ALL), synonyms, spaces=False)
    values = pd.Series(np.array([*codes, None])[position], index=raw.index, dtype=object)
    return ParsedColumn(values, _errors(raw.index, (cells.given & (position < 0), "unknown_value")))


# checks on parsed values ---------------------------------------------------------------------


def check_range(
    values: pd.Series, *, minimum: float | None = None, maximum: float | None = None
) -> pd.Series:
    """``below_minimum`` or ``above_maximum`` per value; None within range or NA."""
    below = _hits(values.lt(minimum)) if minimum is not None else np.zeros(len(values), bool)
    above = _hits(values.gt(maximum)) if maximum is not None else np.zeros(len(values), bool)
    return _errors(values.index, (below, "below_minimum"), (above, "above_maximum"))


def check_length(values: pd.Series, limit: int) -> pd.Series:
    """``too_long`` where the text has more than ``limit`` characters; None otherwise."""
    return _errors(values.index, (_hits(values.str.len().gt(limit)), "too_long"))


def _hits(test: pd.Series) -> Mask:
    return test.to_numpy(dtype=bool, na_value=False)
