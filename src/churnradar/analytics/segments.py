"""Segmentation (客户分级 / 分群 / 标签): RFM scores and segments, value tiers, the four action
groups of the seeds and automatic tags, per customer as of a date.

The vocabulary and the thresholds are in ``domain.segments``; the rules, with worked numbers,
in docs/segments.md. In short:

- RFM covers the customers known before ``as_of`` with at least one purchase. Each score is
  a quantile bin, ``ntile(bins)`` over those customers ordered by the value (recency reversed:
  the most recent get the top score); customers with the same value all get the lowest bin
  any of them landed in, so a score never splits a tie (a score can then go unused).
- The segment reads the grid ``domain.segments.RFM_GRID`` on the five-point scale.
- Tiers rank the trailing-12-month value ``revenue_365d + 12 x current_mrr`` of the customers
  who have any: A while fewer than ``tier_a_share`` of them are worth more, then B up to
  ``tier_a_share + tier_b_share``, else C; customers without value are C.
- Action groups and tags are rules over the tier, the RFM scores and the feature table.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

from churnradar.analytics.churn import known_customers, purchases
from churnradar.analytics.features import feature_table
from churnradar.analytics.tables import EventTables
from churnradar.analytics.time import DAY_SECONDS, check_as_of, instant, seconds
from churnradar.domain.segments import (
    FIVE_POINT,
    RFM_GRID,
    ActionGroup,
    AutoTag,
    RfmConfig,
    SegmentConfig,
    ValueTier,
)

RFM_COLUMNS = (
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_code",
    "segment",
)
DEFAULT_RFM = RfmConfig()
DEFAULT_SEGMENTS = SegmentConfig()

SEGMENT_COLUMNS = ("customer_id", "value_12m", "tier", *RFM_COLUMNS, "action_group", "tags")


def rfm_scores(
    tables: EventTables, *, as_of: datetime, config: RfmConfig = DEFAULT_RFM
) -> ir.Table:
    """RFM of each customer known before ``as_of`` with at least one purchase before it.

    Columns: ``customer_id``; ``recency_days`` (whole days since the latest purchase, rounded
    down), ``frequency`` (purchases in the ``config.window_days`` before ``as_of``) and
    ``monetary`` (their amount); ``r_score``, ``f_score`` and ``m_score`` (1..``config.bins``,
    higher is better: recent, frequent, big); ``rfm_code`` (the three scores, e.g. ``"545"``);
    ``segment`` (:class:`~churnradar.domain.segments.RfmSegment`).

    A customer whose purchases all lie before the window has frequency and monetary 0.

    >>> import pyarrow as pa
    >>> from datetime import UTC
    >>> from churnradar.analytics import event_tables
    >>> tables = event_tables({
    ...     "customers": pa.table({"id": [1, 2, 3]}),
    ...     "orders": pa.table({
    ...         "customer_id": [1, 1, 2, 3],
    ...         "ordered_at": pa.array(
    ...             [datetime(2026, 3, d, tzinfo=UTC) for d in (1, 20, 10, 30)],
    ...             pa.timestamp("us", tz="UTC")),
    ...         "amount": [100.0, 50.0, 400.0, 20.0],
    ...         "status": ["completed"] * 4,
    ...     }),
    ... })
    >>> table = rfm_scores(tables, as_of=datetime(2026, 4, 1, tzinfo=UTC),
    ...                    config=RfmConfig(bins=3))
    >>> table.order_by("customer_id").select("recency_days", "rfm_code").to_pyarrow().to_pydict()
    {'recency_days': [12, 22, 2], 'rfm_code': ['232', '113', '311']}
    """
    check_as_of(as_of)
    now = seconds(instant(as_of))
    bought = purchases(tables, as_of)
    inside = bought.ordered_at >= instant(as_of - timedelta(days=config.window_days))
    summary = bought.group_by("customer_id").aggregate(
        latest=bought.ordered_at.max(),
        frequency=bought.count(where=inside),
        # summed exactly as decimals, so equal purchases give equal (tied) totals
        monetary=bought.amount.sum(where=inside),
    )
    known = known_customers(tables, as_of).select("customer_id")
    rows = known.join(summary, "customer_id").select(
        "customer_id",
        recency_days=((now - seconds(summary.latest)) / DAY_SECONDS).floor().cast("int64"),
        frequency=summary.frequency.cast("int64"),
        monetary=summary.monetary.fill_null(0).cast("float64"),
    )
    rows = _quantile_score(rows, "recency_days", "r_score", config.bins, descending=True)
    rows = _quantile_score(rows, "frequency", "f_score", config.bins)
    rows = _quantile_score(rows, "monetary", "m_score", config.bins)
    code = rows.r_score.cast("string") + rows.f_score.cast("string") + rows.m_score.cast("string")
    r5 = _five_point(rows.r_score, config.bins)
    f5 = _five_point(rows.f_score, config.bins)
    m5 = _five_point(rows.m_score, config.bins)
    fm5 = (f5 + m5 + 1) // 2  # the rounded mean, half up
    return rows.mutate(rfm_code=code, segment=_segment(r5, fm5)).select("customer_id", *RFM_COLUMNS)


def value_tiers(
    tables: EventTables, *, as_of: datetime, config: SegmentConfig = DEFAULT_SEGMENTS
) -> ir.Table:
    """``customer_id``, ``value_12m`` and ``tier`` of each customer known before ``as_of``."""
    features = feature_table(tables, as_of)
    return _with_tier(features, config).select("customer_id", "value_12m", "tier")


def customer_segments(
    tables: EventTables, *, as_of: datetime, config: SegmentConfig = DEFAULT_SEGMENTS
) -> ir.Table:
    """Tier, RFM, segment, action group and tags of each customer known before ``as_of``.

    Columns (:data:`SEGMENT_COLUMNS`): ``customer_id``; ``value_12m`` (revenue of the 365 days
    before ``as_of`` plus 12 x the MRR in force, rounded to cents); ``tier``
    (:class:`~churnradar.domain.segments.ValueTier`); the columns of :func:`rfm_scores`, null
    for a customer without purchases; ``action_group``
    (:class:`~churnradar.domain.segments.ActionGroup`); ``tags``, an array of
    :class:`~churnradar.domain.segments.AutoTag` codes in the order they are declared there
    (empty when none applies).
    """
    check_as_of(as_of)
    features = _with_tier(feature_table(tables, as_of), config)
    rfm = rfm_scores(tables, as_of=as_of, config=config.rfm)
    rows = features.left_join(rfm, "customer_id").drop("customer_id_right")
    r5 = _five_point(rows.r_score, config.rfm.bins)
    rows = rows.mutate(action_group=_action_group(rows, r5, config), tags=_tags(rows, config))
    return rows.select(*SEGMENT_COLUMNS)


# --- scores -------------------------------------------------------------------------------


def _quantile_score(
    table: ir.Table, column: str, name: str, bins: int, *, descending: bool = False
) -> ir.Table:
    """``table`` with ``name``: the ``ntile(bins)`` of ``column`` (1-based; ``descending``
    gives the smallest values the top bin), the same for every row of a tied value."""
    key = ibis.desc(table[column]) if descending else ibis.asc(table[column])
    bucket = f"_{name}_bucket"
    binned = table.mutate(**{bucket: ibis.ntile(bins).over(order_by=key)})
    tied = ibis.window(group_by=binned[column])
    return binned.mutate(**{name: (binned[bucket].min().over(tied) + 1).cast("int64")}).drop(bucket)


def _five_point(score: ir.IntegerValue, bins: int) -> ir.IntegerValue:
    """A 1..bins score on the 1..5 scale the grid and the rules read: the linear map of
    1..bins onto 1..5, rounded half up (the identity for five bins)."""
    if bins == FIVE_POINT:
        return score
    span = bins - 1
    return 1 + ((score - 1) * 2 * (FIVE_POINT - 1) + span) // (2 * span)


def _segment(r5: ir.IntegerValue, fm5: ir.IntegerValue) -> ir.StringValue:
    branches = [
        (r5.between(rs.start, rs.stop - 1) & fm5.between(fms.start, fms.stop - 1), segment.value)
        for segment, rs, fms in RFM_GRID
    ]
    return ibis.cases(*branches, else_=ibis.null("string"))


# --- tiers, action groups, tags -----------------------------------------------------------


def _with_tier(features: ir.Table, config: SegmentConfig) -> ir.Table:
    value = (features.revenue_365d.fill_null(0) + 12 * features.current_mrr.fill_null(0)).round(2)
    rows = features.mutate(value_12m=value)
    valued = rows.value_12m > 0
    everyone = ibis.window()
    # customers worth strictly more: the rank of the first of a tied group
    ahead = ibis.rank().over(order_by=ibis.desc(rows.value_12m))
    counted = rows.count(where=valued).over(everyone)
    share_ahead = ahead.cast("float64") / counted
    # a hair of tolerance, so 0.2 x 10 customers is 2 and not 2.0000000000000004
    a_cut = config.tier_a_share - 1e-9
    b_cut = config.tier_a_share + config.tier_b_share - 1e-9
    tier = ibis.cases(
        (valued & (share_ahead < a_cut), ValueTier.A.value),
        (valued & (share_ahead < b_cut), ValueTier.B.value),
        else_=ValueTier.C.value,
    )
    return rows.mutate(tier=tier)


def _action_group(rows: ir.Table, r5: ir.IntegerValue, config: SegmentConfig) -> ir.StringValue:
    """First that applies: churn warning (a warning tier, slipping), high value (a high-value
    tier), potential (not slipping, active), low value."""
    slipping = _true(r5 <= config.warning_max_r_score) | _true(
        rows.purchase_cycle_ratio > config.warning_cycle_ratio
    )
    if config.warning_digital_ratio is not None:
        slipping |= _true(rows.digital_activity_ratio < config.warning_digital_ratio)
    active = (
        _true(r5 >= config.potential_min_r_score)
        | _true(rows.tenure_days < config.new_customer_days)
        | _true(rows.digital_activity_ratio >= config.potential_digital_ratio)
    )
    return ibis.cases(
        (rows.tier.isin(_codes(config.warning_tiers)) & slipping, ActionGroup.CHURN_WARNING.value),
        (rows.tier.isin(_codes(config.high_value_tiers)), ActionGroup.HIGH_VALUE.value),
        (~slipping & active, ActionGroup.POTENTIAL.value),
        else_=ActionGroup.LOW_VALUE.value,
    )


def _tags(rows: ir.Table, config: SegmentConfig) -> ir.ArrayValue:
    rules: dict[AutoTag, ir.BooleanValue] = {
        AutoTag.NEW_CUSTOMER: rows.tenure_days < config.new_customer_days,
        AutoTag.BIG_SPENDER: rows.tier == ValueTier.A.value,
        # never followed up counts from the day he became a customer
        AutoTag.SILENT: ibis.coalesce(rows.days_since_last_follow_up, rows.tenure_days)
        >= config.silent_days,
        AutoTag.COMPLAINER: rows.complaints_90d >= config.complainer_complaints,
        AutoTag.CONTRACT_ENDING: rows.days_to_contract_end <= config.contract_ending_days,
        AutoTag.KEY_CONTACT_CHANGED: rows.key_contact_changed_90d > 0,
        AutoTag.SLIPPING: rows.purchase_cycle_ratio > config.slipping_cycle_ratio,
    }
    assert list(rules) == list(AutoTag), "every tag has a rule, in the declared order"
    candidates = ibis.array(
        [
            ibis.cases((_true(rule), tag.value), else_=ibis.null("string"))
            for tag, rule in rules.items()
        ]
    )
    return candidates.filter(lambda tag: tag.notnull())


def _true(condition: ir.BooleanValue) -> ir.BooleanValue:
    """``condition``, with unknown (null) as false."""
    return condition.fill_null(False)


def _codes(tiers: frozenset[ValueTier]) -> list[str]:
    return sorted(tier.value for tier in tiers)
