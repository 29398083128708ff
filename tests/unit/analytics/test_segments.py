"""RFM scores, value tiers, action groups and tags on tiny hand-written companies.

Every expected number is worked out in the comments from the rows above it. As of
2026-04-01 00:00 UTC throughout; customers are first seen 2025-01-01 unless a row says so.
"""

from __future__ import annotations

import doctest
import itertools
from datetime import datetime
from typing import Any

import pytest

import churnradar.analytics.segments as segments_module
from churnradar.analytics.segments import (
    SEGMENT_COLUMNS,
    customer_segments,
    rfm_scores,
    value_tiers,
)
from churnradar.domain.segments import (
    ACTION_GROUP_TERMS,
    RFM_GRID,
    SEGMENT_TERMS,
    TAG_TERMS,
    TIER_TERMS,
    ActionGroup,
    AutoTag,
    RfmConfig,
    RfmSegment,
    SegmentConfig,
    ValueTier,
    rfm_segment,
    term,
)
from support.events import at, company

AS_OF = at("2026-04-01")
Row = dict[str, Any]


def _by_customer(table: Any) -> dict[int, dict[str, Any]]:
    frame = table.to_pyarrow().to_pylist()
    return {row["customer_id"]: row for row in frame}


def _orders(customer: int, *days: str, amount: float = 100) -> list[Row]:
    return [{"customer_id": customer, "ordered_at": day, "amount": amount} for day in days]


class TestVocabulary:
    def test_every_grid_cell_has_exactly_one_segment(self) -> None:
        for r, fm in itertools.product(range(1, 6), repeat=2):
            owners = [s for s, rs, fms in RFM_GRID if r in rs and fm in fms]
            assert len(owners) == 1, (r, fm, owners)
        assert {segment for segment, _, _ in RFM_GRID} == set(RfmSegment)

    @pytest.mark.parametrize(
        ("r", "fm", "expected"),
        [
            (5, 5, RfmSegment.CHAMPIONS),
            (5, 4, RfmSegment.CHAMPIONS),
            (4, 5, RfmSegment.LOYAL),
            (3, 4, RfmSegment.LOYAL),
            (5, 3, RfmSegment.POTENTIAL_LOYALIST),
            (4, 2, RfmSegment.POTENTIAL_LOYALIST),
            (5, 1, RfmSegment.NEW),
            (4, 1, RfmSegment.PROMISING),
            (3, 3, RfmSegment.NEED_ATTENTION),
            (3, 2, RfmSegment.ABOUT_TO_SLEEP),
            (2, 4, RfmSegment.AT_RISK),
            (1, 3, RfmSegment.AT_RISK),
            (1, 5, RfmSegment.CANT_LOSE),
            (2, 5, RfmSegment.CANT_LOSE),
            (2, 2, RfmSegment.HIBERNATING),
            (1, 2, RfmSegment.LOST),
            (1, 1, RfmSegment.LOST),
        ],
    )
    def test_rfm_segment(self, r: int, fm: int, expected: RfmSegment) -> None:
        assert rfm_segment(r, fm) is expected

    def test_scores_outside_the_grid_are_refused(self) -> None:
        with pytest.raises(ValueError, match=r"1\.\.5"):
            rfm_segment(0, 3)

    def test_every_code_has_labels_in_both_languages(self) -> None:
        for codes, terms in (
            (RfmSegment, SEGMENT_TERMS),
            (ValueTier, TIER_TERMS),
            (ActionGroup, ACTION_GROUP_TERMS),
            (AutoTag, TAG_TERMS),
        ):
            assert [t.code for t in terms] == [c.value for c in codes]
            for code in codes:
                assert term(code).label("zh-CN")
                assert term(code).label("en")
                assert term(code).meaning("zh-CN")
                assert term(code).meaning("en")
        assert term(RfmSegment.CHAMPIONS).label("zh-CN") == "重要价值客户"
        assert term(RfmSegment.AT_RISK).label("zh") == "重要挽留客户"
        assert term(ActionGroup.CHURN_WARNING).label("zh-CN") == "流失预警客户"

    @pytest.mark.parametrize(
        "bad",
        [
            {"bins": 1},
            {"bins": 10},
            {"window_days": 0},
        ],
    )
    def test_rfm_config_is_checked(self, bad: dict[str, int]) -> None:
        with pytest.raises(ValueError, match=next(iter(bad))):
            RfmConfig(**bad)

    @pytest.mark.parametrize(
        "bad",
        [
            {"tier_a_share": 0.0},
            {"tier_a_share": 0.6, "tier_b_share": 0.5},
            {"warning_max_r_score": 6},
            {"silent_days": 0},
        ],
    )
    def test_segment_config_is_checked(self, bad: dict[str, Any]) -> None:
        with pytest.raises(ValueError, match=r"tier|score|days"):
            SegmentConfig(**bad)


class TestRfmScores:
    def test_ties_get_the_same_score(self) -> None:
        # customer i (1..10) buys frequencies[i] times, 100 each, last on March i. ntile(5)
        # over 10 customers puts positions 0-1 in bin 1, 2-3 in bin 2, ..., 8-9 in bin 5.
        frequencies = [1, 1, 1, 1, 2, 3, 4, 5, 6, 7]
        orders: list[Row] = []
        for i, count in enumerate(frequencies, start=1):
            earlier = [f"2026-02-{day:02d}" for day in range(1, count)]
            orders += _orders(i, *earlier, f"2026-03-{i:02d}")
        tables = company(customers=[{"id": i} for i in range(1, 11)], orders=orders)

        rows = _by_customer(rfm_scores(tables, as_of=AS_OF))

        # the four customers with one purchase take positions 0-3 (bins 1, 1, 2, 2): all
        # get the lowest, 1, and score 2 goes unused; 2 and 3 purchases sit at positions
        # 4 and 5 (bin 3), 4 and 5 at 6 and 7 (bin 4), 6 and 7 at 8 and 9 (bin 5)
        expected = [1, 1, 1, 1, 3, 3, 4, 4, 5, 5]
        assert [rows[i]["f_score"] for i in range(1, 11)] == expected
        # monetary is 100 x frequency: the same order, the same ties
        assert [rows[i]["monetary"] for i in range(1, 11)] == [100.0 * f for f in frequencies]
        assert [rows[i]["m_score"] for i in range(1, 11)] == expected
        # recency: customer i last bought on March i, 32 - i days before April 1; the
        # oldest (customer 1, 31 days) is ranked first and gets 1, the latest gets 5
        assert [rows[i]["recency_days"] for i in range(1, 11)] == [32 - i for i in range(1, 11)]
        assert [rows[i]["r_score"] for i in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
        assert rows[10]["rfm_code"] == "555"
        assert rows[1]["rfm_code"] == "111"

    def test_a_tie_at_the_top_takes_the_lowest_bin_of_the_tie(self) -> None:
        # frequencies 1, 2, 3, 3, 3 over five bins: the three 3s hold positions 2-4
        # (bins 3, 4, 5), so all three score 3 and nobody scores 4 or 5
        orders = (
            _orders(1, "2026-03-01")
            + _orders(2, "2026-03-01", "2026-03-02")
            + [o for c in (3, 4, 5) for o in _orders(c, "2026-03-01", "2026-03-02", "2026-03-03")]
        )
        tables = company(customers=[{"id": i} for i in range(1, 6)], orders=orders)
        rows = _by_customer(rfm_scores(tables, as_of=AS_OF))
        assert [rows[i]["f_score"] for i in range(1, 6)] == [1, 2, 3, 3, 3]

    def test_recency_counts_whole_days_so_one_day_is_a_tie(self) -> None:
        # 2026-03-30 01:00 and 23:00 are 1.96 and 1.04 days before April 1: both 1 day;
        # March 20 is 12 days. ntile(5) over 3 customers: bins 1, 2, 3 by position
        orders = (
            _orders(1, "2026-03-30 01:00")
            + _orders(2, "2026-03-30 23:00")
            + _orders(3, "2026-03-20")
        )
        tables = company(customers=[{"id": i} for i in (1, 2, 3)], orders=orders)
        rows = _by_customer(rfm_scores(tables, as_of=AS_OF))
        assert [rows[i]["recency_days"] for i in (1, 2, 3)] == [1, 1, 12]
        # customer 3 (oldest) is first: bin 1; the tied pair holds bins 2 and 3: both 2
        assert [rows[i]["r_score"] for i in (1, 2, 3)] == [2, 2, 1]

    def test_frequency_and_monetary_count_only_the_window(self) -> None:
        # a 30-day window starts 2026-03-02: of customer 1's orders only March 20 (250)
        # counts; customer 2 bought only before it, so 0 and 0, but his recency is real
        orders = _orders(1, "2026-02-15", amount=900) + _orders(1, "2026-03-20", amount=250)
        orders += _orders(2, "2026-01-01", amount=500)
        tables = company(customers=[{"id": 1}, {"id": 2}], orders=orders)
        rows = _by_customer(rfm_scores(tables, as_of=AS_OF, config=RfmConfig(window_days=30)))
        assert (rows[1]["frequency"], rows[1]["monetary"], rows[1]["recency_days"]) == (
            1,
            250.0,
            12,
        )
        assert (rows[2]["frequency"], rows[2]["monetary"], rows[2]["recency_days"]) == (
            0,
            0.0,
            90,
        )

    def test_only_purchases_before_as_of_of_known_customers_count(self) -> None:
        customers = [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]
        orders = [
            *_orders(1, "2026-03-01"),
            {"customer_id": 2, "ordered_at": "2026-03-01", "amount": 80, "status": "refunded"},
            {"customer_id": 3, "ordered_at": "2026-03-01", "amount": 80, "status": "cancelled"},
            *_orders(4, "2026-04-01"),  # at as_of: not before it
        ]
        tables = company(customers=customers, orders=orders)
        assert set(_by_customer(rfm_scores(tables, as_of=AS_OF))) == {1}

    def test_other_bin_counts_map_onto_the_five_point_grid(self) -> None:
        # three bins, three customers each best, middle or worst at everything: scores 3, 2
        # and 1 map to 5, 3 and 1 on the grid: champions, need attention, lost
        orders = (
            _orders(1, "2026-03-25", "2026-03-28", "2026-03-30", amount=300)
            + _orders(2, "2026-03-10", "2026-03-15", amount=200)
            + _orders(3, "2025-12-01", amount=100)
        )
        tables = company(customers=[{"id": i} for i in (1, 2, 3)], orders=orders)
        rows = _by_customer(rfm_scores(tables, as_of=AS_OF, config=RfmConfig(bins=3)))
        assert [rows[i]["rfm_code"] for i in (1, 2, 3)] == ["333", "222", "111"]
        assert [rows[i]["segment"] for i in (1, 2, 3)] == [
            RfmSegment.CHAMPIONS,
            RfmSegment.NEED_ATTENTION,
            RfmSegment.LOST,
        ]

    def test_a_naive_as_of_is_refused(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            rfm_scores(company(), as_of=datetime(2026, 4, 1))

    def test_the_docstring_example_holds(self) -> None:
        failures, tried = doctest.testmod(segments_module, verbose=False)
        assert tried > 0
        assert failures == 0


class TestValueTiers:
    def test_top_twenty_then_thirty_percent_of_customers_with_value(self) -> None:
        # ten buyers worth 100..1000 and one customer with nothing: he is C and is not
        # counted, so A is the first 20% of 10 (1000, 900) and B the next 30% (800-600).
        # Counting him would give A 2.2 places and put 800 in A too.
        orders = [o for i in range(1, 11) for o in _orders(i, "2026-03-01", amount=100.0 * i)]
        tables = company(customers=[{"id": i} for i in range(1, 12)], orders=orders)
        rows = _by_customer(value_tiers(tables, as_of=AS_OF))
        assert "".join(rows[i]["tier"] for i in range(1, 12)) == "CCCCCBBBAAC"
        assert rows[10]["value_12m"] == 1000.0
        assert rows[11]["value_12m"] == 0.0

    def test_a_tie_at_the_cut_goes_to_the_higher_tier(self) -> None:
        # values 1000, 900, 900, then 500 x 7: the two 900s have one customer ahead (10%),
        # so both are A; the 500s have three ahead (30% < 50%): all seven are B
        amounts = [1000, 900, 900] + [500] * 7
        orders = [o for i, a in enumerate(amounts, 1) for o in _orders(i, "2026-03-01", amount=a)]
        tables = company(customers=[{"id": i} for i in range(1, 11)], orders=orders)
        rows = _by_customer(value_tiers(tables, as_of=AS_OF))
        assert "".join(rows[i]["tier"] for i in range(1, 11)) == "AAABBBBBBB"

    def test_value_is_trailing_revenue_plus_twelve_months_of_mrr(self) -> None:
        # customer 1: a contract only, 150.50 a month in force: 12 x 150.50 = 1806.00.
        # customer 2: 700 this year plus an order 400 days ago that no longer counts.
        # customer 3: a term that ended in February adds nothing: value 300.
        customers: list[Row] = [{"id": 1, "business_model": "contract"}, {"id": 2}, {"id": 3}]
        subscriptions = [
            {"customer_id": 1, "mrr": 150.50, "started_at": "2026-01-01", "ends_at": "2027-01-01"},
            {"customer_id": 3, "mrr": 999, "started_at": "2025-02-01", "ends_at": "2026-02-01"},
        ]
        orders = _orders(2, "2025-02-25", amount=400) + _orders(2, "2026-03-01", amount=700)
        orders += _orders(3, "2026-03-01", amount=300)
        tables = company(customers=customers, subscriptions=subscriptions, orders=orders)
        rows = _by_customer(value_tiers(tables, as_of=AS_OF))
        assert [rows[i]["value_12m"] for i in (1, 2, 3)] == [1806.0, 700.0, 300.0]
        # three with value: A while fewer than 0.6 ahead (customer 1), B below 1.5 ahead
        assert [rows[i]["tier"] for i in (1, 2, 3)] == ["A", "B", "C"]


def _action_company() -> Any:
    """Six customers with value and one without, for the action-group and tag rules.

    value (A = first 2, B = next 2 with shares 1/3 and 1/3), last order, usual interval:
      1: 15000 A, Mar 25 (7 days), orders every 7 days -> cycle ratio 7/7 = 1.0
      2: 12000 A, Mar 10 (22 days), orders every 7 days -> cycle ratio 22/7 = 3.14
      6:  9600 B, contract only (800 a month) since Feb 15: tenure 45 days
      3:  9000 B, Dec 1 (121 days), orders 30 days apart -> 4.03
      4:   300 C, Mar 20 (12 days), one order
      5:   200 C, Jan 1 (90 days), one order
      7:     0 C, first seen 2025-06-01, nothing at all
    recency over the five buyers: 1 (7 d) r5, 4 (12 d) r4, 2 (22 d) r3, 5 (90 d) r2, 3 r1
    """
    customers: list[Row] = [{"id": i} for i in range(1, 6)]
    customers += [
        {"id": 6, "business_model": "contract", "first_seen": "2026-02-15"},
        {"id": 7, "first_seen": "2025-06-01"},
    ]
    orders = (
        _orders(1, "2026-03-11", "2026-03-18", "2026-03-25", amount=5000)
        + _orders(2, "2026-02-24", "2026-03-03", "2026-03-10", amount=4000)
        + _orders(3, "2025-11-01", "2025-12-01", amount=4500)
        + _orders(4, "2026-03-20", amount=300)
        + _orders(5, "2026-01-01", amount=200)
    )
    subscriptions = [
        {"customer_id": 6, "mrr": 800, "started_at": "2026-02-15", "ends_at": "2027-02-15"}
    ]
    follow_ups = [{"customer_id": 1, "occurred_at": "2026-03-15", "user_id": 1}]
    return company(
        customers=customers, orders=orders, subscriptions=subscriptions, interactions=follow_ups
    )


THIRDS = SegmentConfig(tier_a_share=1 / 3, tier_b_share=1 / 3)


@pytest.fixture(scope="module")
def action_rows() -> dict[int, dict[str, Any]]:
    return _by_customer(customer_segments(_action_company(), as_of=AS_OF, config=THIRDS))


class TestCustomerSegments:
    def test_columns(self) -> None:
        table = customer_segments(_action_company(), as_of=AS_OF, config=THIRDS)
        assert tuple(table.columns) == SEGMENT_COLUMNS

    def test_rfm_and_segments_of_every_customer(
        self, action_rows: dict[int, dict[str, Any]]
    ) -> None:
        rows = action_rows
        # frequency 3, 3, 2, 1, 1 (customers 1-5): the two 1s take bins 1, 2 -> 1; the 2 is
        # at position 2 -> 3; the two 3s take bins 4, 5 -> 4. Monetary is distinct: 5, 4,
        # 3, 2, 1 for 15000, 12000, 9000, 300, 200.
        codes = {i: rows[i]["rfm_code"] for i in range(1, 6)}
        assert codes == {1: "545", 2: "344", 3: "133", 4: "412", 5: "211"}
        # fm = round half up of (f + m) / 2: 5, 4, 3, 2, 1
        assert [rows[i]["segment"] for i in range(1, 6)] == [
            RfmSegment.CHAMPIONS,  # r5 fm5
            RfmSegment.LOYAL,  # r3 fm4
            RfmSegment.AT_RISK,  # r1 fm3
            RfmSegment.POTENTIAL_LOYALIST,  # r4 fm2
            RfmSegment.HIBERNATING,  # r2 fm1
        ]
        for customer in (6, 7):  # without purchases: no RFM at all
            assert rows[customer]["rfm_code"] is None
            assert rows[customer]["segment"] is None
            assert rows[customer]["r_score"] is None

    def test_tiers(self, action_rows: dict[int, dict[str, Any]]) -> None:
        assert {i: row["tier"] for i, row in action_rows.items()} == {
            1: "A",
            2: "A",
            6: "B",  # only a contract: 12 x 800
            3: "B",
            4: "C",
            5: "C",
            7: "C",  # no value
        }
        assert action_rows[6]["value_12m"] == 9600.0

    def test_action_groups(self, action_rows: dict[int, dict[str, Any]]) -> None:
        assert {i: row["action_group"] for i, row in action_rows.items()} == {
            1: ActionGroup.HIGH_VALUE,  # A, r5, cycle 1.0: not slipping
            2: ActionGroup.CHURN_WARNING,  # A, r3 but cycle 3.14 > 1.5
            3: ActionGroup.CHURN_WARNING,  # B, r1 <= 2
            6: ActionGroup.POTENTIAL,  # B, not slipping (no orders), new (45 days)
            4: ActionGroup.POTENTIAL,  # C, r4 >= 4, one order: no cycle
            5: ActionGroup.LOW_VALUE,  # C, r2: slipping, but C is not a warning tier
            7: ActionGroup.LOW_VALUE,  # C, nothing recent, not new
        }

    def test_tags(self, action_rows: dict[int, dict[str, Any]]) -> None:
        assert {i: row["tags"] for i, row in action_rows.items()} == {
            1: ["big_spender"],  # followed up 17 days ago
            2: ["big_spender", "silent", "slipping"],  # cycle 3.14 > 2
            3: ["silent", "slipping"],  # cycle 121 / 30 = 4.03
            4: ["silent"],
            5: ["silent"],
            6: ["new_customer"],  # 45 days a customer: not silent yet
            7: ["silent"],  # never followed up in 304 days
        }

    def test_thresholds_are_configurable(self) -> None:
        config = SegmentConfig(
            tier_a_share=1 / 3,
            tier_b_share=1 / 3,
            warning_cycle_ratio=4.0,  # customer 2 (3.14) no longer slips
            high_value_tiers=frozenset({ValueTier.A, ValueTier.B}),  # customer 6 is high value
        )
        rows = _by_customer(customer_segments(_action_company(), as_of=AS_OF, config=config))
        assert rows[2]["action_group"] == ActionGroup.HIGH_VALUE
        assert rows[6]["action_group"] == ActionGroup.HIGH_VALUE
        assert rows[3]["action_group"] == ActionGroup.CHURN_WARNING


def _tag_company() -> Any:
    """One customer per case of each tag rule, numbered by rule (1x new customer, 2x silent,
    3x complainer, 4x contract ending, 5x key contact, 6x slipping, 71 nothing)."""
    ids = [11, 12, 21, 22, 23, 31, 32, 33, 41, 42, 43, 51, 52, 53, 61, 62, 71]
    first_seen = {11: "2026-01-01", 12: "2026-01-02"}
    customers = [{"id": i, "first_seen": first_seen.get(i, "2025-01-01")} for i in ids]
    interactions: list[Row] = [
        {"customer_id": 21, "occurred_at": "2026-01-31"},
        {"customer_id": 22, "occurred_at": "2026-02-01"},
        {"customer_id": 23, "occurred_at": "2026-03-30", "direction": "inbound"},
        {"customer_id": 71, "occurred_at": "2026-03-30"},
    ]
    tickets: list[Row] = [
        {"customer_id": 31, "opened_at": "2026-01-01", "is_complaint": True},
        {"customer_id": 31, "opened_at": "2026-03-01", "is_complaint": True},
        {"customer_id": 32, "opened_at": "2025-12-31", "is_complaint": True},
        {"customer_id": 32, "opened_at": "2026-03-01", "is_complaint": True},
        {"customer_id": 33, "opened_at": "2026-03-01"},
        {"customer_id": 33, "opened_at": "2026-03-02"},
    ]
    subscriptions: list[Row] = [
        {"customer_id": 41, "mrr": 10, "started_at": "2025-06-01", "ends_at": "2026-05-31"},
        {"customer_id": 42, "mrr": 10, "started_at": "2025-06-01", "ends_at": "2026-06-01"},
        {"customer_id": 43, "mrr": 10, "started_at": "2025-03-01", "ends_at": "2026-03-01"},
    ]
    contacts: list[Row] = [
        {"customer_id": 51, "name": "王伟", "is_key": True, "active_to": "2026-03-01"},
        {"customer_id": 52, "name": "李娜", "is_key": False, "active_to": "2026-03-01"},
        {"customer_id": 53, "name": "张敏", "is_key": True, "active_to": "2025-12-01"},
    ]
    orders = _orders(61, "2026-02-19", "2026-03-01", "2026-03-11")
    orders += _orders(62, "2026-02-20", "2026-03-02", "2026-03-12")
    return company(
        customers=customers,
        interactions=interactions,
        tickets=tickets,
        subscriptions=subscriptions,
        contacts=contacts,
        orders=orders,
    )


@pytest.fixture(scope="module")
def tags() -> dict[int, list[str]]:
    rows = _by_customer(customer_segments(_tag_company(), as_of=AS_OF))
    return {i: row["tags"] for i, row in rows.items()}


class TestTags:
    def _has(self, tags: dict[int, list[str]], tag: str, *customers: int) -> list[bool]:
        return [tag in tags[customer] for customer in customers]

    def test_new_customer_below_ninety_days(self, tags: dict[int, list[str]]) -> None:
        # 2026-01-01 is 90 days before April 1 (not below), 2026-01-02 is 89
        assert self._has(tags, "new_customer", 11, 12) == [False, True]

    def test_silent_from_sixty_days_without_follow_up(self, tags: dict[int, list[str]]) -> None:
        # Jan 31 is 60 days before April 1, Feb 1 is 59; an inbound call is no follow-up, so
        # 23 counts from the day he became a customer (455 days)
        assert self._has(tags, "silent", 21, 22, 23) == [True, False, True]

    def test_complainer_from_two_complaints_in_ninety_days(
        self, tags: dict[int, list[str]]
    ) -> None:
        # 31: two complaints since Jan 1 (90 days); 32: one of his two is from December;
        # 33: two tickets that are not complaints
        assert self._has(tags, "complainer", 31, 32, 33) == [True, False, False]

    def test_contract_ending_within_sixty_days(self, tags: dict[int, list[str]]) -> None:
        # ends May 31 (60 days), June 1 (61 days), and a term that ended in March
        assert self._has(tags, "contract_ending", 41, 42, 43) == [True, False, False]

    def test_key_contact_changed_in_ninety_days(self, tags: dict[int, list[str]]) -> None:
        # a key contact left on March 1; a contact who is not key; a key contact in December
        assert self._has(tags, "key_contact_changed", 51, 52, 53) == [True, False, False]

    def test_slipping_beyond_twice_the_usual_interval(self, tags: dict[int, list[str]]) -> None:
        # 61: orders 10 days apart, the last 21 days ago: 2.1 > 2;
        # 62: orders 10 days apart, the last 20 days ago: exactly 2, not above
        assert self._has(tags, "slipping", 61, 62) == [True, False]

    def test_no_tag_is_an_empty_list(self, tags: dict[int, list[str]]) -> None:
        # followed up two days ago, no value, a customer for over a year
        assert tags[71] == []
