"""The segmentation step of a run: refresh the mirror, compute every customer's tier, RFM
segment, action group and tags as of a date, and write tiers and automatic tags back.

Idempotent per ``as_of``: a second run on the same data writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine

from churnradar.analytics import connect, open_mirror
from churnradar.analytics.segments import DEFAULT_SEGMENTS, customer_segments
from churnradar.config import Settings
from churnradar.domain.segments import (
    ActionGroup,
    AutoTag,
    RfmSegment,
    SegmentConfig,
    ValueTier,
)
from churnradar.store.mirror import refresh_mirror
from churnradar.store.segments import SegmentWrite, write_segments


@dataclass(frozen=True)
class SegmentReport:
    """Customers segmented, and how many fell in each tier, RFM segment, action group and
    tag (every declared tier, group and tag is listed, with 0 when empty); what the write
    changed."""

    as_of: datetime
    customers: int
    tiers: dict[str, int]
    segments: dict[str, int]
    unsegmented: int  # known customers without purchases, so without an RFM segment
    action_groups: dict[str, int]
    tags: dict[str, int]
    written: SegmentWrite


def segment_customers(
    engine: Engine,
    settings: Settings,
    *,
    as_of: datetime,
    config: SegmentConfig | None = None,
) -> SegmentReport:
    """Segment every customer known before ``as_of`` (aware) and write the result."""
    refresh_mirror(engine, settings.mirror_dir)
    backend = connect()
    try:
        tables = open_mirror(settings.mirror_dir, backend)
        rows = customer_segments(tables, as_of=as_of, config=config or DEFAULT_SEGMENTS)
        computed = rows.to_pyarrow()
    finally:
        backend.disconnect()
    written = write_segments(engine, computed, as_of=as_of)
    return SegmentReport(
        as_of=as_of,
        customers=computed.num_rows,
        tiers=_counts(computed["tier"], ValueTier),
        segments=_counts(computed["segment"], RfmSegment),
        unsegmented=computed["segment"].null_count,
        action_groups=_counts(computed["action_group"], ActionGroup),
        tags=_counts(pc.list_flatten(computed["tags"]), AutoTag),
        written=written,
    )


def _counts(values: pa.ChunkedArray | pa.Array, codes: Iterable[StrEnum]) -> dict[str, int]:
    """How often each of ``codes`` occurs in ``values`` (0 when it does not)."""
    counted = pc.value_counts(pc.drop_null(values)).to_pylist()  # a handful of distinct values
    found = {str(entry["values"]): int(entry["counts"]) for entry in counted}
    return {code.value: found.get(code.value, 0) for code in codes}
