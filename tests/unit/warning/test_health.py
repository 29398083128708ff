"""The health score, its components, risk tiers, losses and top reasons, on hand-made health
sections and customers; every number is worked out in the comments."""

from __future__ import annotations

import ibis
import numpy as np
import pyarrow as pa
import pytest

from churnradar.domain import ReasonCode
from churnradar.warning import (
    default_pack,
    health_scores,
    parse_pack,
    reason_sources,
    top_reasons,
)
from churnradar.warning.health import ReasonSource
from churnradar.warning.spec import Health, Sentence

POINTS_ITEM = (
    "{feature: orders_90d, points: 5, reason: engagement, sentence: {zh: 下单, en: Orders}}"
)
SERVICE = """\
    - key: service
      title: {zh: 服务, en: Service}
      weight: 1
      signals:
        - feature: complaints_90d
          good: 0
          bad: 4
          reason: service
          sentence: {zh: 投诉, en: Complaints}
"""

# Engagement (weight 3): days since follow-up, good 10 -> bad 90, weight 1, and the activity
# ratio, good 1.0 -> bad 0.2, weight 3. Service (weight 1): complaints, good 0 -> bad 4.
# Shares of the score: days 3/4 * 1/4 = 0.1875, activity 3/4 * 3/4 = 0.5625, complaints 0.25.
WEIGHTED = f"""\
rules: []
health:
  model: weighted
  top_reasons: 2
  tiers: {{high_below: 50, medium_below: 70}}
  points: {{base: 50, items: [{POINTS_ITEM}]}}
  components:
    - key: engagement
      title: {{zh: 互动, en: Engagement}}
      weight: 3
      signals:
        - feature: days_since_last_follow_up
          good: 10
          bad: 90
          reason: engagement
          sentence: {{zh: 久未跟进, en: No follow-up}}
        - feature: activity_ratio
          good: 1.0
          bad: 0.2
          weight: 3
          reason: engagement
          sentence: {{zh: 互动下降, en: Less contact}}
{SERVICE}"""

# One signal, complaints 0 -> 100 points, 4 -> 0: 25 points a complaint, exact in floats.
TIERED = f"""\
rules: []
health:
  model: weighted
  tiers: {{high_below: 50, medium_below: 75}}
  points: {{base: 50, items: [{POINTS_ITEM}]}}
  components:
{SERVICE}"""

ORDERS = "{zh: 下单, en: Orders}"
INBOUND = "{zh: 主动联系, en: Inbound}"
COMPLAINTS = "{zh: 投诉, en: Complaints}"

# 60 + 5 an order (at most 4 orders) + 3 an inbound contact - 10 a complaint, clipped 0-100.
POINTS = f"""\
rules: []
health:
  model: points
  tiers: {{high_below: 50, medium_below: 70}}
  points:
    base: 60
    items:
      - {{feature: orders_90d, points: 5, cap: 4, reason: engagement, sentence: {ORDERS}}}
      - {{feature: inbound_90d, points: 3, reason: engagement, sentence: {INBOUND}}}
      - {{feature: complaints_90d, points: -10, reason: service, sentence: {COMPLAINTS}}}
  components:
{SERVICE}"""


def health_of(text: str) -> Health:
    return parse_pack(text, defaults=default_pack()).health


def scores(health: Health, **columns: list[float | None]) -> dict[str, list[object]]:
    """``health_scores`` over customers 1, 2, … with these feature columns, by column."""
    count = len(next(iter(columns.values())))
    table = ibis.memtable(
        pa.table(
            {
                "customer_id": pa.array(range(1, count + 1), pa.int64()),
                **{name: pa.array(values, pa.float64()) for name, values in columns.items()},
            }
        )
    )
    result = health_scores(health, table).order_by("customer_id").to_pyarrow().to_pydict()
    assert result.pop("customer_id") == list(range(1, count + 1))
    return result


# days, activity, complaints -> signal scores -> engagement, service -> health
# 1:  50, 0.6, 1   -> 50, 50, 75                      -> 50, 75     -> .75*50 + .25*75 = 56.25
# 2:   5, 0.1, 6   -> 106.25>100, -12.5<0, -50<0      -> 25, 0      -> 18.75
# 3: 120, 1.5, 0   -> -37.5<0, 162.5>100, 100         -> 75, 100    -> 81.25
# 4:  30,   -, 2   -> 75, left out, 50                -> 75, 50     -> 56.25 + 12.5 = 68.75
# 5:   -,   -, -   -> nothing measured                -> -, -       -> -
# 6:  90, 0.2, -   -> 0, 0, left out                  -> 0, -       -> 0 (service left out)
WEIGHTED_CUSTOMERS: dict[str, list[float | None]] = {
    "days_since_last_follow_up": [50, 5, 120, 30, None, 90],
    "activity_ratio": [0.6, 0.1, 1.5, None, None, 0.2],
    "complaints_90d": [1, 6, 0, 2, None, None],
}


class TestWeightedHealth:
    def test_signals_clip_in_both_directions(self) -> None:
        result = scores(health_of(WEIGHTED), **WEIGHTED_CUSTOMERS)

        # customers 1-3: every feature present
        assert result["health_engagement"][:3] == pytest.approx([50, 25, 75])
        assert result["health_service"][:3] == pytest.approx([75, 0, 100])
        assert result["health"][:3] == pytest.approx([56.25, 18.75, 81.25])

    def test_a_missing_feature_is_left_out_of_its_component(self) -> None:
        result = scores(health_of(WEIGHTED), **WEIGHTED_CUSTOMERS)

        # 4: activity missing, engagement is the days signal alone (75), not (75 + 3*100)/4
        assert result["health_engagement"][3] == pytest.approx(75)
        assert result["health"][3] == pytest.approx(68.75)
        assert result["risk_tier"][3] == "medium"

    def test_a_component_with_nothing_measured_is_left_out_of_the_score(self) -> None:
        result = scores(health_of(WEIGHTED), **WEIGHTED_CUSTOMERS)

        # 6: no complaints figure, the score is engagement alone: 0, not .75*0 + .25*100
        assert result["health_service"][5] is None
        assert result["health"][5] == pytest.approx(0)

    def test_nothing_measured_has_no_health_and_no_tier(self) -> None:
        result = scores(health_of(WEIGHTED), **WEIGHTED_CUSTOMERS)

        assert result["health_engagement"][4] is None
        assert result["health_service"][4] is None
        assert result["health"][4] is None
        assert result["risk_tier"][4] is None

    def test_losses_are_the_points_each_signal_takes_off(self) -> None:
        result = scores(health_of(WEIGHTED), **WEIGHTED_CUSTOMERS)

        # (100 - signal score) x share: days 0.1875, activity 0.5625, complaints 0.25
        # 1: 50 x .1875 = 9.375, 50 x .5625 = 28.125, 25 x .25 = 6.25
        # 2:  0,                100 x .5625 = 56.25,  100 x .25 = 25
        # 3: 100 x .1875 = 18.75, 0,                  0
        assert result["loss_0"][:3] == pytest.approx([9.375, 0, 18.75])
        assert result["loss_1"][:3] == pytest.approx([28.125, 56.25, 0])
        assert result["loss_2"][:3] == pytest.approx([6.25, 25, 0])

    def test_top_reasons_from_the_losses(self) -> None:
        health = health_of(WEIGHTED)
        table = ibis.memtable(
            pa.table(
                {
                    "customer_id": pa.array(range(1, 7), pa.int64()),
                    **{k: pa.array(v, pa.float64()) for k, v in WEIGHTED_CUSTOMERS.items()},
                }
            )
        )
        losses = health_scores(health, table).order_by("customer_id").to_pyarrow()
        sources = reason_sources(health)

        chosen = top_reasons(losses, sources, health.top_reasons)

        assert [s.feature for s in sources] == [
            "days_since_last_follow_up",
            "activity_ratio",
            "complaints_90d",
        ]
        # losses (days, activity, complaints), the two largest positive ones first:
        # 1: 9.375 28.125 6.25 -> activity, days
        # 2: 0 56.25 25 -> activity, complaints
        # 3: 18.75 0 0 -> days, then nothing
        # 4: 4.6875 - 12.5 -> complaints, days
        # 5: nothing measured -> nothing
        # 6: 18.75 56.25 - -> activity, days
        assert chosen.tolist() == [[1, 0], [1, 2], [0, -1], [2, 0], [-1, -1], [1, 0]]


class TestRiskTier:
    def test_cut_offs_belong_to_the_higher_tier(self) -> None:
        # complaints 4 3 2.04 2 1.5 1 0 -> 0 25 49 50 62.5 75 100 points
        # below 50 high, below 75 medium, else low: 50 is medium, 75 is low
        result = scores(health_of(TIERED), complaints_90d=[4, 3, 2.04, 2, 1.5, 1, 0])

        assert result["health"] == pytest.approx([0, 25, 49, 50, 62.5, 75, 100])
        assert result["risk_tier"] == [
            "high",
            "high",
            "high",
            "medium",
            "medium",
            "low",
            "low",
        ]


class TestPointsHealth:
    def test_base_points_cap_and_clipping(self) -> None:
        result = scores(
            health_of(POINTS),
            orders_90d=[2, 10, 0, None, 6],
            inbound_90d=[1, 10, 0, None, 0],
            complaints_90d=[1, 0, 8, None, 3],
        )

        # 1: 60 + 2*5 + 1*3 - 10          = 63
        # 2: 60 + 4*5 (cap) + 30 - 0      = 110 -> 100
        # 3: 60 - 80                      = -20 -> 0
        # 4: nothing counted              = 60
        # 5: 60 + 4*5 (cap, not 30) - 30  = 50
        assert result["health"] == pytest.approx([63, 100, 0, 60, 50])
        assert result["risk_tier"] == ["medium", "low", "high", "medium", "medium"]
        assert set(result) == {"health", "risk_tier", "loss_0", "loss_1", "loss_2"}
        # a loss is the points an item takes off: minus what it adds
        assert result["loss_0"] == pytest.approx([-10, -20, 0, 0, -20])
        assert result["loss_1"] == pytest.approx([-3, -30, 0, 0, 0])
        assert result["loss_2"] == pytest.approx([10, 0, 80, 0, 30])


def _sources(count: int) -> list[ReasonSource]:
    sentence = Sentence(zh=("原因",), en=("reason",))
    return [
        ReasonSource(f"loss_{n}", "complaints_90d", ReasonCode.SERVICE, sentence)
        for n in range(count)
    ]


class TestTopReasons:
    LOSSES = pa.table(
        {
            "loss_0": pa.array([1.0, 2.0, 0.0, None], pa.float64()),
            "loss_1": pa.array([5.0, 0.0, -1.0, None], pa.float64()),
            "loss_2": pa.array([3.0, 2.0, 4.0, 7.0], pa.float64()),
            "loss_3": pa.array([0.0, 2.0, None, 7.0], pa.float64()),
        }
    )

    def test_largest_first_ties_in_source_order_minus_one_for_the_rest(self) -> None:
        chosen = top_reasons(self.LOSSES, _sources(4), 3)

        assert chosen.dtype == np.int64
        assert chosen.tolist() == [
            [1, 2, 0],  # 5 3 1 (the 0 is no reason)
            [0, 2, 3],  # a three-way tie at 2, in source order
            [2, -1, -1],  # only 4 is positive
            [2, 3, -1],  # tie at 7; missing losses are no reason
        ]

    def test_padded_when_k_exceeds_the_sources(self) -> None:
        chosen = top_reasons(self.LOSSES.slice(0, 1), _sources(4), 6)

        assert chosen.tolist() == [[1, 2, 0, -1, -1, -1]]

    def test_no_sources(self) -> None:
        assert top_reasons(self.LOSSES, [], 2).tolist() == [[-1, -1]] * 4
