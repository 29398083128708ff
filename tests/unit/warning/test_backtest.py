"""Grading rules on a tiny hand-made history; every figure is counted by hand below.

Six weekly evaluation dates, a 14-day horizon, six customers of two reps:

    date  d0 01-06  d1 01-13  d2 01-20  d3 01-27  d4 02-03  d5 02-10   (2025)

    customer rep  left   known  evaluated on     (known and not churned as known then)
    1        10   01-25  02-01  d0 d1 d2 d3
    2        10   02-05  02-05  d0 d1 d2 d3 d4
    3        20   01-08  01-22  d0 d1 d2
    4        20   -      -      d0 .. d5
    5        20   -      -      d0 .. d5
    6        20   02-07  02-07  d0             (not evaluated again: no churner, see below)

    rule a fires: 1 on d1 d2; 2 on d1 d2; 3 on d2; 4 on d0 d1 d3
    rule b fires: 1 on d3; 2 on d3 d4; 4 on d1; 5 on d4 d5

Outcome of a row (customer, date), from his churn not yet known on the date: *gone* if he had
left by then, else a *hit* if he leaves within 14 days.

    1: d0 (+14 = 01-20 < 01-25) no; d1 (01-27) hit; d2 (02-03) hit; d3 gone (left 01-25)
    2: d0 d1 d2 (02-03 < 02-05) no; d3 (02-10) hit; d4 hit
    3: d0 (01-20 >= 01-08) hit; d1 d2 gone (left 01-08, known 01-22)
    4, 5: never churn: no
    6: d0 (01-20 < 02-07) no

Base rate: population rows 4 + 5 + 3 + 6 + 6 + 1 = 25, of which 3 gone, so 22 graded, with
2 + 2 + 1 = 5 hits: 5/22.

Churners: left after d0 + 14 days (01-20) and by d5 (02-10), evaluated between 14 days before
leaving and the day it was known. 1 (01-25; window 01-11 to 02-01: d1 d2 d3) and 2 (02-05;
window 01-22 to 02-05: d3 d4). Not 3 (left 01-08, too early), not 6 (02-07, but only
evaluated on d0, before his window 01-24 to 02-07). So 2 churners.

Workload: 2 reps, 6 dates a week apart = 6 weeks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churnradar.warning.backtest import PACK, Grade, History, grade

DATES = np.array(
    ["2025-01-06", "2025-01-13", "2025-01-20", "2025-01-27", "2025-02-03", "2025-02-10"],
    dtype="datetime64[us]",
)
EVALUATED = {1: [0, 1, 2, 3], 2: [0, 1, 2, 3, 4], 3: [0, 1, 2], 4: [0, 1, 2, 3, 4, 5]}
EVALUATED |= {5: [0, 1, 2, 3, 4, 5], 6: [0]}
OWNER = {1: 10, 2: 10, 3: 20, 4: 20, 5: 20, 6: 20}
FIRED = {
    "a": {1: [1, 2], 2: [1, 2], 3: [2], 4: [0, 1, 3]},
    "b": {1: [3], 2: [3, 4], 4: [1], 5: [4, 5]},
}
CHURNS = [  # customer, left, known
    (1, "2025-01-25", "2025-02-01"),
    (2, "2025-02-05", "2025-02-05"),
    (3, "2025-01-08", "2025-01-22"),
    (6, "2025-02-07", "2025-02-07"),
]


def history() -> History:
    population = pd.DataFrame(
        [
            {"date": date, "customer_id": customer, "owner_id": OWNER[customer]}
            for customer, dates in EVALUATED.items()
            for date in dates
        ]
    )
    fired = pd.DataFrame(
        [
            {"date": date, "customer_id": customer, "rule": rule}
            for rule, customers in FIRED.items()
            for customer, dates in customers.items()
            for date in dates
        ]
    )
    churns = pd.DataFrame(
        {
            "customer_id": [c for c, _, _ in CHURNS],
            "left_at": np.array([left for _, left, _ in CHURNS], dtype="datetime64[us]"),
            "known_at": np.array([known for _, _, known in CHURNS], dtype="datetime64[us]"),
        }
    )
    return History(DATES, population, fired, churns, horizon_days=14)


@pytest.fixture(scope="module")
def grades() -> dict[str, Grade]:
    graded = grade(history(), ["a", "b"])
    assert [g.rule for g in graded] == ["a", "b", PACK]
    return {g.rule: g for g in graded}


BASE_RATE = 5 / 22


class TestRuleA:
    """Alerts (a firing whose customer's rule did not fire on the date before):
    1 on d1 (d2 continues it): hit (left 01-25 <= 01-27)
    2 on d1 (d2 continues it): no (02-05 > 01-27)
    3 on d2: late (left 01-08, known 01-22)
    4 on d0 (d1 continues it) and on d3 (after the gap at d2): no, no
    5 alerts, 1 late, 1 hit of 4 graded.
    Churner 1: first firing in his window d1 (01-13), lead 12 days. Churner 2: fired d1 and
    d2, both before his window (01-22): not caught.
    """

    def test_alerts_late_and_hits(self, grades: dict[str, Grade]) -> None:
        a = grades["a"]

        assert (a.alerts, a.customers_alerted, a.late, a.hits) == (5, 4, 1, 1)

    def test_precision_base_rate_and_lift(self, grades: dict[str, Grade]) -> None:
        a = grades["a"]

        assert a.precision == pytest.approx(1 / 4)
        assert a.base_rate == pytest.approx(BASE_RATE)
        assert a.lift == pytest.approx(0.25 / BASE_RATE)  # 1.1

    def test_churners_caught_and_lead(self, grades: dict[str, Grade]) -> None:
        a = grades["a"]

        assert (a.churners, a.churners_caught) == (2, 1)
        assert a.recall == pytest.approx(0.5)
        assert a.median_lead_days == pytest.approx(12)

    def test_alerts_per_rep_week(self, grades: dict[str, Grade]) -> None:
        assert grades["a"].alerts_per_rep_week == pytest.approx(5 / 2 / 6)


class TestRuleB:
    """Alerts:
    1 on d3: late (left 01-25 before 01-27, known 02-01 after)
    2 on d3 (d4 continues it): hit (02-05 <= 02-10)
    4 on d1: no
    5 on d4 (d5 continues it): no
    4 alerts, 1 late, 1 hit of 3 graded.
    Churner 1: first firing in window d3 (01-27), two days after he left: lead -2.
    Churner 2: first firing d3 (01-27), lead 9. Median (-2 + 9) / 2 = 3.5.
    """

    def test_alerts_late_and_hits(self, grades: dict[str, Grade]) -> None:
        b = grades["b"]

        assert (b.alerts, b.customers_alerted, b.late, b.hits) == (4, 4, 1, 1)

    def test_precision_and_lift(self, grades: dict[str, Grade]) -> None:
        b = grades["b"]

        assert b.precision == pytest.approx(1 / 3)
        assert b.lift == pytest.approx((1 / 3) / BASE_RATE)  # 22/15

    def test_churners_caught_with_a_negative_lead(self, grades: dict[str, Grade]) -> None:
        b = grades["b"]

        assert (b.churners, b.churners_caught) == (2, 2)
        assert b.recall == pytest.approx(1.0)
        assert b.median_lead_days == pytest.approx(3.5)

    def test_alerts_per_rep_week(self, grades: dict[str, Grade]) -> None:
        assert grades["b"].alerts_per_rep_week == pytest.approx(4 / 2 / 6)


class TestPack:
    """Any rule firing, each customer-date once:
    1: d1 d2 (a) d3 (b): one alert on d1, hit
    2: d1 d2 (a) d3 d4 (b): one alert on d1, no
    3: d2: late
    4: d0 d1 d3 (a) and d1 (b, the same date as a): alerts on d0 and d3, no, no
    5: d4 d5: one alert, no
    6 alerts (7 if d1 of customer 4 counted twice), 1 late, 1 hit of 5 graded.
    Churner 1: first firing in window d1, lead 12; churner 2: d3, lead 9; median 10.5.
    """

    def test_a_customer_date_counts_once(self, grades: dict[str, Grade]) -> None:
        pack = grades[PACK]

        assert (pack.alerts, pack.customers_alerted, pack.late, pack.hits) == (6, 5, 1, 1)
        assert pack.alerts_per_rep_week == pytest.approx(6 / 2 / 6)

    def test_precision_and_lift(self, grades: dict[str, Grade]) -> None:
        pack = grades[PACK]

        assert pack.precision == pytest.approx(1 / 5)
        assert pack.base_rate == pytest.approx(BASE_RATE)
        assert pack.lift == pytest.approx(0.2 / BASE_RATE)  # 0.88

    def test_churners_caught(self, grades: dict[str, Grade]) -> None:
        pack = grades[PACK]

        assert (pack.churners, pack.churners_caught) == (2, 2)
        assert pack.median_lead_days == pytest.approx(10.5)


class TestEmpty:
    def test_a_rule_that_never_fires(self) -> None:
        (never, pack) = grade(history(), ["never"])

        assert (never.alerts, never.hits, never.late, never.churners_caught) == (0, 0, 0, 0)
        assert never.precision is None
        assert never.lift is None
        assert never.median_lead_days is None
        assert never.churners == 2
        assert never.alerts_per_rep_week == 0
        assert pack.alerts == 6
