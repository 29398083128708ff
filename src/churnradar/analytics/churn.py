"""Who churned, when, how and why: churn episodes and each customer's status as of a date.

The churn definitions of DESIGN.md section 6, as Ibis expressions. Each of them proposes
*candidate* churn points, read only from what happened before ``as_of``:

- ``recorded``: a churn event the team entered (``source = reported``), or a churn date on the
  customer row, with its type and reason;
- ``cancelled``: a contract term cancelled; a stated churn, so its type follows its reason;
- ``lapsed``: contract cover ended (every term the customer held ended) and no new term
  started within the grace period; dated at the end of cover, known once the grace passed;
- ``inactive``: a repeat buyer (business model ``noncontract``) placed no order for N days;
  dated N days after his last order, the day it became true.

A customer *comes back* at his first order or new contract term after the churn point. All
candidates of a customer that the same return ends form one *episode*; its date, type and
reason come from the strongest candidate, in the order above (a statement beats an inference),
and among equals the earliest. An episode with a return is won back (挽回).

Lapse and inactivity say nothing about why, so they are hidden churn (隐性流失) with reason
``unknown``. Nothing here reads a status column: a term's ``status`` and an order's ``status``
are today's values, except that an order cancelled or refunded is never a purchase.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

import ibis
import ibis.expr.types as ir
from ibis import _

from churnradar.analytics.tables import EventTables
from churnradar.analytics.time import DAY_SECONDS, TIMESTAMP, check_as_of, instant, seconds
from churnradar.domain import (
    PASSIVE_CHURN_REASONS,
    BusinessModel,
    ChurnDefinition,
    ChurnSource,
    ChurnType,
    CustomerStatus,
    OrderStatus,
    ReasonCode,
)

# With fewer repeat-purchase intervals than this, the derived threshold would be noise.
MIN_INTERVALS = 30
FALLBACK_INACTIVE_DAYS = 180


class ChurnEvidence(StrEnum):
    """Which definition found a churn point, strongest first."""

    RECORDED = "recorded"
    CANCELLED = "cancelled"
    LAPSED = "lapsed"
    INACTIVE = "inactive"


_STRENGTH = {evidence: rank for rank, evidence in enumerate(ChurnEvidence)}


@dataclass(frozen=True)
class InactivityThreshold:
    """Days without an order after which a repeat buyer counts as churned.

    ``derived`` says the default came from the inter-purchase distribution (the configured
    quantile of the gaps between consecutive orders before ``as_of``), not from the settings.
    """

    days: int
    by_segment: Mapping[str, int] = field(default_factory=dict)
    derived: bool = False
    intervals: int = 0


def inactivity_threshold(
    tables: EventTables, *, as_of: datetime, definition: ChurnDefinition
) -> InactivityThreshold:
    """The threshold of ``definition``, deriving what it does not configure.

    Derived thresholds are the configured quantile of the gaps between consecutive purchases
    of repeat buyers before ``as_of``, in whole days rounded up: one per segment (buyers of
    a big account reorder faster than a small shop), and the quantile over all gaps for
    customers without a segment or in a segment with fewer than ``MIN_INTERVALS`` gaps.
    Configured days win: a configured default is used for every segment not configured
    itself, and nothing is derived. This runs one small query, so
    the threshold can be shown beside the figures it produced.
    """
    check_as_of(as_of)
    configured = dict(definition.segment_inactive_days)
    if definition.noncontract_inactive_days is not None:
        return InactivityThreshold(definition.noncontract_inactive_days, configured)
    gaps = _order_gaps(tables, as_of).filter(_.gap_seconds.notnull())
    quantile = definition.noncontract_inactive_quantile
    overall = gaps.aggregate(n=_.count(), q=_.gap_seconds.quantile(quantile)).to_pyarrow()
    by_segment = (
        gaps.filter(_.segment.notnull())
        .group_by("segment")
        .aggregate(n=_.count(), q=_.gap_seconds.quantile(quantile))
        .filter(_.n >= MIN_INTERVALS)
        .to_pyarrow()
    )
    count = int(overall["n"][0].as_py() or 0)
    if count < MIN_INTERVALS:
        days, derived = FALLBACK_INACTIVE_DAYS, False
    else:
        days, derived = _whole_days(overall["q"][0].as_py()), True
    segments = (
        {
            segment: _whole_days(q)
            for segment, q in zip(
                by_segment["segment"].to_pylist(), by_segment["q"].to_pylist(), strict=True
            )
        }
        if definition.derive_by_segment
        else {}
    )
    return InactivityThreshold(days, segments | configured, derived, count)


def _whole_days(seconds_: float) -> int:
    return max(1, math.ceil(float(seconds_) / DAY_SECONDS))


def purchases(tables: EventTables, as_of: datetime) -> ir.Table:
    """Orders that count as purchases (not cancelled or refunded), placed before ``as_of``."""
    orders = tables.orders
    return orders.filter(
        orders.ordered_at < instant(as_of),
        ~orders.status.isin([OrderStatus.CANCELLED.value, OrderStatus.REFUNDED.value]),
    )


def churn_episodes(
    tables: EventTables,
    *,
    as_of: datetime,
    definition: ChurnDefinition,
    threshold: InactivityThreshold,
) -> ir.Table:
    """Every churn episode known before ``as_of``, one row each.

    Columns: ``customer_id``, ``churned_at`` (UTC), ``churn_type`` and ``churn_reason`` (the
    domain codes), ``evidence`` (:class:`ChurnEvidence`), ``won_back_at`` (the first order or
    term start after the churn, before ``as_of``; null while the customer stays away).

    The episodes are computed once per (tables, as_of, definition, threshold) into a
    temporary table of the backend: every churn metric starts from them.
    """
    check_as_of(as_of)
    key = ("churn_episodes", as_of, repr(definition), repr(threshold))
    return tables.materialised(key, lambda: _episodes(tables, as_of, definition, threshold))


def _episodes(
    tables: EventTables,
    as_of: datetime,
    definition: ChurnDefinition,
    threshold: InactivityThreshold,
) -> ir.Table:
    candidates = ibis.union(
        _recorded(tables, as_of),
        _cancelled_and_lapsed(tables, as_of, definition),
        _inactive(tables, as_of, threshold),
    )
    returns = _returns(tables, as_of)
    stream = ibis.union(
        candidates.mutate(is_return=ibis.literal(False)),
        returns.mutate(
            churned_at=returns.at,
            churn_type=ibis.null("string"),
            churn_reason=ibis.null("string"),
            evidence=ibis.null("string"),
            strength=ibis.null("int64"),
            is_return=ibis.literal(True),
        ).drop("at"),
    )
    # The next return strictly after each point: a return at the same instant sorts first
    # (True before False, descending), so it is not among the following rows.
    following = ibis.window(
        group_by="customer_id",
        order_by=[stream.churned_at, ibis.desc(stream.is_return)],
        rows=(1, None),
    )
    with_return = stream.mutate(
        won_back_at=ibis.cases((stream.is_return, stream.churned_at), else_=ibis.null(TIMESTAMP))
        .min()
        .over(following)
    ).filter(~_.is_return)
    # One row per episode: the strongest candidate, then the earliest, then by evidence and
    # type, so every column comes from the same candidate on every engine.
    episode = ibis.window(
        group_by=["customer_id", "won_back_at"],
        order_by=["strength", "churned_at", "evidence", "churn_type", "churn_reason"],
    )
    return (
        with_return.mutate(position=ibis.row_number().over(episode))
        .filter(_.position == 0)
        .select(
            "customer_id", "churned_at", "churn_type", "churn_reason", "evidence", "won_back_at"
        )
    )


def churn_status(
    tables: EventTables,
    *,
    as_of: datetime,
    definition: ChurnDefinition,
    threshold: InactivityThreshold,
) -> ir.Table:
    """Each customer known before ``as_of`` (first seen, or any order or term before it)
    with his status on that date.

    Columns: ``customer_id``, ``since`` (when he became a customer), ``status``
    (:class:`~churnradar.domain.CustomerStatus`: churned while his latest episode has no
    return, won back after a return, else active), and of his latest episode, if any:
    ``churned_at``, ``churn_type``, ``churn_reason``, ``evidence``, ``won_back_at``.
    """
    episodes = churn_episodes(tables, as_of=as_of, definition=definition, threshold=threshold)
    latest = episodes.filter(
        episodes.churned_at == episodes.churned_at.max().over(group_by="customer_id")
    )
    known = known_customers(tables, as_of)
    joined = known.left_join(latest, "customer_id").drop("customer_id_right")
    return joined.mutate(
        status=ibis.cases(
            (joined.churned_at.isnull(), CustomerStatus.ACTIVE.value),
            (joined.won_back_at.isnull(), CustomerStatus.CHURNED.value),
            else_=CustomerStatus.WON_BACK.value,
        )
    ).select(
        "customer_id",
        "since",
        "status",
        "churned_at",
        "churn_type",
        "churn_reason",
        "evidence",
        "won_back_at",
    )


def known_customers(tables: EventTables, as_of: datetime) -> ir.Table:
    """``customer_id`` and ``since`` for the customers known before ``as_of``: since the
    earliest of their first-seen date, first purchase and first contract term."""
    return tables.materialised(("known_customers", as_of), lambda: _known(tables, as_of))


def first_activity(tables: EventTables, as_of: datetime) -> ir.Table:
    """``customer_id`` and ``first_at``: his first purchase or contract term before ``as_of``
    (customers with neither are not in it)."""
    return (
        ibis.union(
            purchases(tables, as_of).select("customer_id", at=_.ordered_at),
            tables.subscriptions.filter(_.started_at < instant(as_of)).select(
                "customer_id", at=_.started_at
            ),
        )
        .group_by("customer_id")
        .aggregate(first_at=_.at.min())
    )


def _known(tables: EventTables, as_of: datetime) -> ir.Table:
    customers = tables.customers
    firsts = first_activity(tables, as_of)
    joined = customers.left_join(firsts, customers.id == firsts.customer_id)
    # least() skips nulls on DuckDB, PostgreSQL and Spark alike
    since = ibis.least(joined.first_seen, joined.first_at)
    return joined.select(customer_id=joined.id, since=since).filter(_.since < instant(as_of))


# --- the candidates ----------------------------------------------------------------------


def _candidate(
    table: ir.Table,
    *,
    at: ir.TimestampValue,
    churn_type: ir.StringValue,
    churn_reason: ir.StringValue,
    evidence: ChurnEvidence | ir.StringValue,
) -> ir.Table:
    if isinstance(evidence, ChurnEvidence):
        evidence = ibis.literal(evidence.value)
    strengths = {kind.value: rank for kind, rank in _STRENGTH.items()}
    return table.select(
        customer_id=table.customer_id,
        churned_at=at.cast(TIMESTAMP),
        churn_type=churn_type.cast("string"),
        churn_reason=churn_reason.cast("string"),
        evidence=evidence,
        strength=evidence.substitute(strengths, else_=len(strengths)).cast("int64"),
    )


def _recorded(tables: EventTables, as_of: datetime) -> ir.Table:
    moment = instant(as_of)
    events = tables.churn_events.filter(
        _.occurred_at < moment, _.source == ChurnSource.REPORTED.value
    )
    customers = tables.customers.filter(_.churned_at < moment).mutate(customer_id=_.id)
    unknown = ReasonCode.UNKNOWN.value
    return ibis.union(
        _candidate(
            events,
            at=events.occurred_at,
            churn_type=events.type,
            churn_reason=events.reason.fill_null(unknown),
            evidence=ChurnEvidence.RECORDED,
        ),
        _candidate(
            customers,
            at=customers.churned_at,
            churn_type=customers.churn_type.fill_null(_stated_type(customers.churn_reason)),
            churn_reason=customers.churn_reason.fill_null(unknown),
            evidence=ChurnEvidence.RECORDED,
        ),
    )


def _cancelled_and_lapsed(
    tables: EventTables, as_of: datetime, definition: ChurnDefinition
) -> ir.Table:
    """Where a customer's contract cover ends with no term starting within the grace.

    Terms are ordered by start; ``cover`` is the latest end among the terms so far (a term
    cancelled before ``as_of`` ends at its cancellation, one without an end never ends). A
    gap opens after a term when the next term starts more than the grace after ``cover``,
    or when there is no next term and the grace has passed by ``as_of``; a cancellation is a
    statement, so it counts at once. The term that set ``cover`` gives the evidence.
    """
    moment = instant(as_of)
    grace = definition.contract_grace_days * DAY_SECONDS
    terms = tables.subscriptions.filter(_.started_at < moment)
    cancelled = terms.cancelled_at.notnull() & (terms.cancelled_at < moment)
    never = instant(datetime(9999, 1, 1, tzinfo=UTC))
    ends = terms.mutate(
        end=ibis.cases(
            (
                cancelled & (terms.ends_at.isnull() | (terms.cancelled_at < terms.ends_at)),
                terms.cancelled_at,
            ),
            else_=terms.ends_at.fill_null(never),
        ),
        is_cancel=cancelled,
    )
    order = ibis.window(group_by="customer_id", order_by=[ends.started_at, ends.id])
    running = ibis.window(
        group_by="customer_id", order_by=[ends.started_at, ends.id], rows=(None, 0)
    )
    covered = ends.mutate(
        cover=ends.end.max().over(running),
        next_start=ends.started_at.lead().over(order),
    )
    own = covered.end == covered.cover
    is_cancel = own & covered.is_cancel
    gap_after = seconds(covered.next_start) - seconds(covered.cover)
    waited = seconds(moment) - seconds(covered.cover)
    opens = ibis.cases(
        (covered.cover >= never, False),
        (covered.next_start.notnull(), gap_after > grace),
        (is_cancel, True),
        else_=waited >= grace,
    )
    gaps = covered.filter(opens).mutate(is_cancel=is_cancel)
    reason = gaps.cancel_reason.fill_null(ReasonCode.UNKNOWN.value)
    stated_type = _stated_type(reason)
    return _candidate(
        gaps,
        at=gaps.cover,
        churn_type=ibis.cases((gaps.is_cancel, stated_type), else_=ChurnType.HIDDEN.value),
        churn_reason=ibis.cases((gaps.is_cancel, reason), else_=ReasonCode.UNKNOWN.value),
        evidence=ibis.cases(
            (gaps.is_cancel, ChurnEvidence.CANCELLED.value), else_=ChurnEvidence.LAPSED.value
        ),
    )


def _stated_type(reason: ir.StringValue) -> ir.StringValue:
    passive = [code.value for code in PASSIVE_CHURN_REASONS]
    return ibis.cases((reason.isin(passive), ChurnType.PASSIVE.value), else_=ChurnType.ACTIVE.value)


def _inactive(tables: EventTables, as_of: datetime, threshold: InactivityThreshold) -> ir.Table:
    """After each purchase of a repeat buyer, a churn point N days on if no purchase came
    within N days (and N days have passed by ``as_of``)."""
    moment = instant(as_of)
    gaps = _order_gaps(tables, as_of)
    days = _threshold_days(gaps.segment, threshold)
    limit = days * DAY_SECONDS
    silent = ibis.coalesce(gaps.gap_seconds, seconds(moment) - seconds(gaps.ordered_at))
    lapsed = gaps.mutate(limit_days=days).filter(silent > limit)
    return _candidate(
        lapsed,
        at=lapsed.ordered_at + lapsed.limit_days.as_interval("D"),
        churn_type=ibis.literal(ChurnType.HIDDEN.value),
        churn_reason=ibis.literal(ReasonCode.UNKNOWN.value),
        evidence=ChurnEvidence.INACTIVE,
    )


def _order_gaps(tables: EventTables, as_of: datetime) -> ir.Table:
    """Purchases of repeat buyers with ``segment`` and ``gap_seconds`` to the next purchase
    (null after the last one before ``as_of``)."""
    buyers = tables.customers.filter(_.business_model == BusinessModel.NONCONTRACT.value)
    bought = purchases(tables, as_of).join(
        buyers.select(customer_id=_.id, segment=_.segment), "customer_id"
    )
    order = ibis.window(group_by="customer_id", order_by=[bought.ordered_at, bought.id])
    return bought.select(
        "customer_id",
        "segment",
        "ordered_at",
        gap_seconds=seconds(bought.ordered_at.lead().over(order)) - seconds(bought.ordered_at),
    )


def _threshold_days(segment: ir.StringValue, threshold: InactivityThreshold) -> ir.IntegerValue:
    if not threshold.by_segment:
        return ibis.literal(threshold.days)
    return segment.substitute(dict(threshold.by_segment), else_=threshold.days).cast("int64")


def _returns(tables: EventTables, as_of: datetime) -> ir.Table:
    """What ends an episode: a purchase or the start of a contract term."""
    return ibis.union(
        purchases(tables, as_of).select("customer_id", at=_.ordered_at),
        tables.subscriptions.filter(_.started_at < instant(as_of)).select(
            "customer_id", at=_.started_at
        ),
    )
