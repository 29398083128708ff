"""Validating hand-written rows, as the unit tests of ingest do: a small database's directories,
a chunk as a reader yields it, and the rows and problems that come out."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from churnradar.ingest.headers import choose_columns
from churnradar.ingest.kinds import KINDS
from churnradar.ingest.readers import RawChunk
from churnradar.ingest.references import CustomerDirectory, KeyDirectory, UserDirectory
from churnradar.ingest.validate import ChunkResult, Directories, ImportOptions, RowValidator
from churnradar.store.staging import INSERT_DEFAULTS

NOW = datetime(2025, 6, 30, 12, tzinfo=UTC)


def options(**changes: Any) -> ImportOptions:
    base = ImportOptions(zone=ZoneInfo("Asia/Shanghai"), currency="CNY", now=NOW)
    return dataclasses.replace(base, **changes)


def directories() -> Directories:
    """What the database holds: two customers, one sales rep, one earlier contract."""
    return Directories(
        customers=CustomerDirectory(
            pd.DataFrame({"external_id": ["C001", "C002"], "name": ["华联超市", "北京新源科技"]})
        ),
        users=UserDirectory(
            pd.DataFrame(
                {
                    "username": ["zhangwei"],
                    "display_name": ["张伟"],
                    "external_id": [None],
                    "email": ["zhangwei@example.cn"],
                }
            )
        ),
        subscriptions=KeyDirectory(pd.Series(["S-2023-01"])),
    )


def validator(kind: str, headers: Sequence[str], **changes: Any) -> RowValidator:
    mapping = choose_columns(KINDS[kind], headers)
    return RowValidator(KINDS[kind], mapping, options(**changes), directories())


def chunk(*rows: list[Any], first: int = 2) -> RawChunk:
    """Rows as a reader yields them: positional columns, cells as text, Excel row numbers."""
    return RawChunk(pd.DataFrame(list(rows), dtype=object), np.arange(first, first + len(rows)))


def validated(kind: str, headers: Sequence[str], *rows: list[Any], **changes: Any) -> ChunkResult:
    return validator(kind, headers, **changes).validate(chunk(*rows))


def table(result: ChunkResult, name: str) -> pd.DataFrame:
    """The rows for ``name`` as an import inserts them: its defaults fill the empty cells."""
    [frame] = [frame for table, frame, _ in result.frames if table == name]
    filled = frame.copy()
    for column, value in frame.attrs.get(INSERT_DEFAULTS, {}).items():
        given = filled[column] if column in filled else pd.Series(None, index=filled.index)
        filled[column] = given.astype(object).where(given.notna(), value)
    return filled


def found(result: ChunkResult) -> list[tuple[int, str, str]]:
    """(row, field, code) of each problem, in row order."""
    problems = result.problems
    return list(zip(problems["row"], problems["field"], problems["code"], strict=True))
