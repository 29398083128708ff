"""Which column of the file is which field: recognised names, a unit in brackets, overrides.

Headers are compared after normalisation: Unicode NFKC (full-width to half-width), case
folded, spaces, underscores, hyphens, dots and colons removed. A bracketed suffix is a unit or
a remark, "订单金额（元）", "金额(万元)", "Amount (CNY)": it is dropped for matching, and a
万/亿 unit multiplies the column's amounts. A mapping file (JSON or TOML, ``{"source header":
"field"}``, ``null`` or ``""`` to ignore a column) overrides the automatic choice.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from churnradar.errors import InvalidInput, Problem
from churnradar.i18n import LocalisedText
from churnradar.ingest.fields import Field, Kind

_BRACKETED = re.compile(r"[(\[（【](?P<inside>[^)\]）】]*)[)\]）】]\s*$")
_NOISE = re.compile(r"[\s_\-.:：·*#]+")
_MULTIPLIERS = {
    "万": 1e4,
    "万元": 1e4,
    "w": 1e4,
    "亿": 1e8,
    "亿元": 1e8,
    "千": 1e3,
    "千元": 1e3,
    "k": 1e3,
}


def normalise_header(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).strip()
    while _BRACKETED.search(folded):  # "金额（元）（含税）": every trailing remark
        folded = _BRACKETED.sub("", folded).rstrip()
    return _NOISE.sub("", folded).casefold()


def header_multiplier(text: str) -> float:
    """The factor a bracketed unit in the header implies: 金额(万元) -> 10,000, else 1."""
    match = _BRACKETED.search(unicodedata.normalize("NFKC", text).strip())
    if not match:
        return 1.0
    unit = _NOISE.sub("", match["inside"]).casefold().removeprefix("单位")
    for currency in ("人民币", "rmb", "cny", "¥"):
        unit = unit.removeprefix(currency).removesuffix(currency)
    return _MULTIPLIERS.get(unit, 1.0)


@dataclass(frozen=True)
class ColumnChoice:
    """One source column the import reads: its position, its header as written, its field."""

    position: int
    header: str
    field: Field
    multiplier: float = 1.0
    explicit: bool = False  # named in the mapping file


@dataclass(frozen=True)
class HeaderMapping:
    columns: tuple[ColumnChoice, ...]
    ignored: tuple[str, ...]  # headers of the columns no field claims

    def get(self, name: str) -> ColumnChoice | None:
        for choice in self.columns:
            if choice.field.name == name:
                return choice
        return None

    def as_dict(self) -> dict[str, str]:
        """Source header -> field name, for the batch record."""
        return {choice.header: choice.field.name for choice in self.columns}


class HeaderIndex:
    """The normalised header names of one kind, each to its field."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self._names: dict[str, Field] = {}
        self._labels: dict[str, Field] = {}
        for field in kind.fields:
            self._labels[normalise_header(field.name)] = field
            for header in field.headers:
                self._names.setdefault(normalise_header(header), field)

    def lookup(self, header: str) -> Field | None:
        key = normalise_header(header)
        return self._names.get(key) or self._labels.get(key) if key else None

    def score(self, cells: Sequence[str]) -> int:
        """How many distinct fields a row of cells names: how the reader finds the header row."""
        return len({field.name for cell in cells if (field := self.lookup(str(cell)))})


def choose_columns(
    kind: Kind,
    headers: Sequence[str],
    parents: Sequence[str] | None = None,
    overrides: Mapping[str, str | None] | None = None,
) -> HeaderMapping:
    """Assign fields to columns: the mapping file first, then each header as written, then
    with its parent label of a two-row header (客户 / 编号 -> 客户编号). A field takes the
    first column that names it; a later column naming it again is ignored."""
    index = HeaderIndex(kind)
    overrides = dict(overrides or {})
    _check_overrides(kind, headers, parents, overrides)
    labels = [_label(position, headers, parents) for position in range(len(headers))]
    found = [
        _field_for(index, position, headers, parents, overrides) for position in range(len(headers))
    ]
    chosen: dict[str, ColumnChoice] = {}
    # the mapping file's choices first, so a column it names wins over an earlier one
    for explicit_pass in (True, False):
        for position, (field, explicit) in enumerate(found):
            if field is None or explicit is not explicit_pass or field.name in chosen:
                continue
            label = labels[position]
            chosen[field.name] = ColumnChoice(
                position, label, field, header_multiplier(label), explicit=explicit
            )
    taken = {choice.position for choice in chosen.values()}
    ignored = [label for position, label in enumerate(labels) if label and position not in taken]
    chosen = dict(sorted(chosen.items(), key=lambda item: item[1].position))
    mapping = HeaderMapping(tuple(chosen.values()), tuple(ignored))
    _check_required(kind, mapping, labels)
    return mapping


def _label(position: int, headers: Sequence[str], parents: Sequence[str] | None) -> str:
    header = headers[position].strip()
    parent = parents[position].strip() if parents else ""
    if parent and header and parent != header:
        return f"{parent}{header}"
    return header or parent


def _field_for(
    index: HeaderIndex,
    position: int,
    headers: Sequence[str],
    parents: Sequence[str] | None,
    overrides: Mapping[str, str | None],
) -> tuple[Field | None, bool]:
    header = headers[position].strip()
    parent = parents[position].strip() if parents else ""
    for written in (_label(position, headers, parents), header):
        if written in overrides:
            target = overrides[written]
            return (index.kind.field(_field_name(index.kind, target)) if target else None), True
    # the joined label first: 客户 / 编号 is the customer's number, not the row's
    candidates = [f"{parent}{header}", header, parent] if parent else [header]
    for candidate in candidates:
        field = index.lookup(candidate) if candidate else None
        if field is not None:
            return field, False
    return None, False


def _field_name(kind: Kind, target: str) -> str:
    """A mapping file may name a field by its code or by any of its recognised headers."""
    if target in kind.names:
        return target
    field = HeaderIndex(kind).lookup(target)
    assert field is not None, "checked by _check_overrides"
    return field.name


def _check_overrides(
    kind: Kind,
    headers: Sequence[str],
    parents: Sequence[str] | None,
    overrides: Mapping[str, str | None],
) -> None:
    index = HeaderIndex(kind)
    written = {h.strip() for h in headers} | {
        _label(position, headers, parents) for position in range(len(headers))
    }
    problems = []
    shown = "、".join(h for h in headers if h)
    for source, target in overrides.items():
        if source not in written:
            problems.append(
                Problem(
                    "mapping_unknown_header",
                    column=source,
                    params={"column": source, "headers": shown},
                )
            )
        if target and target not in kind.names and index.lookup(target) is None:
            problems.append(
                Problem(
                    "mapping_unknown_field",
                    column=source,
                    params={"column": source, "field": target, "fields": ", ".join(kind.names)},
                )
            )
    if problems:
        # the first problem in words; all of them in ``problems``
        first = problems[0]
        raise InvalidInput(
            "ingest.mapping.invalid_more" if len(problems) > 1 else "ingest.mapping.invalid",
            problems=problems,
            detail=LocalisedText(f"ingest.problem.{first.code}", **first.params),
            more=len(problems) - 1,
        )


def _check_required(kind: Kind, mapping: HeaderMapping, labels: Sequence[str]) -> None:
    present = {choice.field.name for choice in mapping.columns}
    missing = [field for field in kind.fields if field.required and field.name not in present]
    groups = [group for group in kind.one_of if not present.intersection(group)]
    if not missing and not groups:
        return
    seen = "、".join(label for label in labels if label)
    problems = [
        Problem(
            "missing_column", column=field.headers[0], params={"field": field.name, "headers": seen}
        )
        for field in missing
    ] + [
        Problem(
            "missing_one_of",
            column=kind.field(group[0]).headers[0],
            params={"fields": " / ".join(kind.field(n).headers[0] for n in group), "headers": seen},
        )
        for group in groups
    ]
    wanted = [f"{field.headers[0]} ({field.name})" for field in missing] + [
        " / ".join(f"{kind.field(n).headers[0]} ({n})" for n in group) for group in groups
    ]
    raise InvalidInput(
        "ingest.mapping.missing_columns", problems=problems, missing="; ".join(wanted), headers=seen
    )


def read_mapping_file(path: Path) -> dict[str, str | None]:
    """``{"source header": "field or recognised header", "ignored column": null}`` from a
    .json or .toml file; TOML has no null, so an empty string ignores a column there."""
    if not path.is_file():
        raise InvalidInput("ingest.file.not_found", file=str(path))
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(
            "ingest.mapping.unreadable", file=str(path), reason=str(error)
        ) from error
    if not isinstance(data, dict) or not all(
        isinstance(value, str | None) for value in data.values()
    ):
        raise InvalidInput(
            "ingest.mapping.unreadable",
            file=str(path),
            reason="expected an object of header -> field name",
        )
    return {str(key): value for key, value in data.items()}
