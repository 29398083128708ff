"""Rules as Ibis expressions, run on DuckDB over five hand-made customers.

    id segment   model        tenure days usual complaints key_contact last_order avg_order nps
    1  大客户     contract     400    35   10    0          0           500        1000      9
    2  中型客户   contract     30     55   30    2          1           900        1000      -
    3  小微客户   noncontract  200    50   -     1          0           -          800       3
    4  小微客户   contract     90     -    20    3          0           100        1000      7
    5  -          noncontract  -      70   20    0          0           300        -         6

(days: days_since_last_follow_up, usual: usual_follow_up_interval_days; - is missing.)
Every expectation is worked out row by row in the comments.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pytest

from churnradar.warning import default_pack, parse_pack, rule_firings


@pytest.fixture(scope="module")
def customers() -> ir.Table:
    # through Arrow: ibis reading a pandas 3 frame trips a pandas deprecation warning;
    # pyarrow turns NaN and None into nulls
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5],
            "segment": ["大客户", "中型客户", "小微客户", "小微客户", None],
            "business_model": ["contract", "contract", "noncontract", "contract", "noncontract"],
            "tenure_days": [400, 30, 200, 90, None],
            "days_since_last_follow_up": [35, 55, 50, None, 70],
            "usual_follow_up_interval_days": [10, 30, None, 20, 20],
            "complaints_90d": [0, 2, 1, 3, 0],
            "key_contact_changed_90d": [0, 1, 0, 0, 0],
            "last_order_amount": [500, 900, None, 100, 300],
            "avg_order_amount_365d": [1000, 1000, 800, 1000, None],
            "latest_nps": [9, None, 3, 7, 6],
        }
    )
    return ibis.memtable(pa.Table.from_pandas(frame, preserve_index=False))


def rule(key: str, when: str, *extra: str) -> str:
    """One rule entry of a pack; ``when`` is a flow-style condition, ``extra`` more lines."""
    lines = [
        f"  - key: {key}",
        "    title: {zh: 规则, en: Rule}",
        "    severity: low",
        "    reason: engagement",
        "    evidence: []",
        "    sentence: {zh: 规则, en: Rule}",
        "    playbook: re_engage",
        f"    when: {when}",
        *(f"    {line}" for line in extra),
    ]
    return "\n".join(lines) + "\n"


def firings(table: ir.Table, *rules: str, conditions: str = "") -> dict[str, list[bool]]:
    """Each rule's column, in customer order."""
    text = (f"conditions:\n{conditions}" if conditions else "") + "rules:\n" + "".join(rules)
    pack = parse_pack(text, defaults=default_pack())
    columns = rule_firings(pack, table).order_by("customer_id").to_pyarrow().to_pydict()
    assert columns.pop("customer_id") == [1, 2, 3, 4, 5]
    return columns


class TestThresholds:
    def test_segment_beats_business_model_beats_default(self, customers: ir.Table) -> None:
        when = (
            '{feature: days_since_last_follow_up, op: ">", '
            "value: {default: 45, segment: {大客户: 30}, business_model: {contract: 60}}}"
        )
        # 1 大客户/contract: the segment's 30 (not contract's 60): 35 > 30
        # 2 中型客户/contract: contract's 60 (not the default 45): 55 > 60 is false
        # 3 小微客户/noncontract: the default 45: 50 > 45
        # 4 days missing: false
        # 5 no segment, noncontract: the default 45: 70 > 45
        assert firings(customers, rule("r", when)) == {"r": [True, False, True, False, True]}

    def test_without_a_default_a_customer_matching_nothing_is_false(
        self, customers: ir.Table
    ) -> None:
        when = (
            '{feature: days_since_last_follow_up, op: ">", '
            "value: {segment: {大客户: 30}, business_model: {noncontract: 60}}}"
        )
        # 1 大客户: 35 > 30; 2 中型客户/contract: no threshold, false though 55 is large;
        # 3 noncontract: 50 > 60 false; 4 missing; 5 noncontract: 70 > 60
        assert firings(customers, rule("r", when)) == {"r": [True, False, False, False, True]}

    def test_a_plain_number(self, customers: ir.Table) -> None:
        # 35, 55, 50, -, 70 against >= 50
        when = '{feature: days_since_last_follow_up, op: ">=", value: 50}'

        assert firings(customers, rule("r", when)) == {"r": [False, True, True, False, True]}


class TestRef:
    def test_ratio_to_another_feature(self, customers: ir.Table) -> None:
        days = (
            '{feature: days_since_last_follow_up, op: ">", '
            "ref: usual_follow_up_interval_days, factor: 2}"
        )
        money = '{feature: last_order_amount, op: "<", ref: avg_order_amount_365d, factor: 0.6}'
        # days > 2 x usual: 35 > 20; 55 > 60 no; usual missing; days missing; 70 > 40
        # last order < 0.6 x avg: 500 < 600; 900 < 600 no; last missing; 100 < 600; avg missing
        assert firings(customers, rule("days", days), rule("money", money)) == {
            "days": [True, False, False, False, True],
            "money": [True, False, False, True, False],
        }

    def test_without_a_factor_the_ratio_is_one(self, customers: ir.Table) -> None:
        when = '{feature: days_since_last_follow_up, op: ">", ref: usual_follow_up_interval_days}'
        # 35 > 10; 55 > 30; usual missing; days missing; 70 > 20
        assert firings(customers, rule("r", when)) == {"r": [True, True, False, False, True]}


class TestMissingValues:
    def test_a_comparison_with_a_missing_value_is_false_and_its_negation_true(
        self, customers: ir.Table
    ) -> None:
        low = '{feature: latest_nps, op: "<=", value: 6}'
        # nps 9, -, 3, 7, 6: <= 6 is F, F (missing), T, F, T; `not` flips every one
        assert firings(customers, rule("low", low), rule("not_low", f"{{not: {low}}}")) == {
            "low": [False, False, True, False, True],
            "not_low": [True, True, False, True, False],
        }

    def test_missing(self, customers: ir.Table) -> None:
        assert firings(
            customers,
            rule("no_nps", "{missing: latest_nps}"),
            rule("no_order", "{missing: last_order_amount}"),
        ) == {
            "no_nps": [False, True, False, False, False],
            "no_order": [False, False, True, False, False],
        }


class TestCombinations:
    def test_any_of_all(self, customers: ir.Table) -> None:
        when = (
            "{any: ["
            '{all: [{feature: complaints_90d, op: ">=", value: 2},'
            ' {feature: key_contact_changed_90d, op: "==", value: true}]},'
            ' {all: [{feature: latest_nps, op: "<=", value: 3},'
            ' {feature: complaints_90d, op: ">=", value: 1}]}'
            "]}"
        )
        # complaints 0 2 1 3 0, key contact 0 1 0 0 0, nps 9 - 3 7 6
        # first all:  F T F F F (4 has 3 complaints but the same contact)
        # second all: F F T F F (nps <= 3 only for 3, who has a complaint)
        assert firings(customers, rule("r", when)) == {"r": [False, True, True, False, False]}

    def test_all_of_any(self, customers: ir.Table) -> None:
        when = (
            "{all: ["
            "{any: [{missing: latest_nps},"
            ' {feature: key_contact_changed_90d, op: "!=", value: 0}]},'
            ' {feature: complaints_90d, op: ">=", value: 2}'
            "]}"
        )
        # any: nps missing or contact changed: F T F F F; complaints >= 2: F T F T F
        assert firings(customers, rule("r", when)) == {"r": [False, True, False, False, False]}

    def test_use_of_a_named_condition(self, customers: ir.Table) -> None:
        conditions = '  quiet: {feature: days_since_last_follow_up, op: ">", value: 45}\n'
        both = '{all: [{use: quiet}, {feature: complaints_90d, op: ">=", value: 1}]}'
        # quiet (35 55 50 - 70 > 45): F T T F T; complaints >= 1: F T T T F
        assert firings(
            customers,
            rule("quiet_and_complaining", both),
            rule("not_quiet", "{not: {use: quiet}}"),
            conditions=conditions,
        ) == {
            "quiet_and_complaining": [False, True, True, False, False],
            "not_quiet": [True, False, False, True, False],
        }


class TestScope:
    ALWAYS = '{feature: complaints_90d, op: ">=", value: 0}'  # true for everyone

    def test_segments_business_models_and_tenure(self, customers: ir.Table) -> None:
        assert firings(
            customers,
            rule("big", self.ALWAYS, "segments: [大客户, 中型客户]"),
            rule("repeat", self.ALWAYS, "business_models: [noncontract]"),
            rule("old", self.ALWAYS, "min_tenure_days: 90"),
            rule("small_old", self.ALWAYS, "segments: [小微客户]", "min_tenure_days: 100"),
        ) == {
            # segments 大客户 中型客户 小微客户 小微客户 - (no segment is outside)
            "big": [True, True, False, False, False],
            "repeat": [False, False, True, False, True],
            # tenure 400 30 200 90 -: at least 90 days, 90 included, unknown outside
            "old": [True, False, True, True, False],
            # 小微客户 with 100 days or more: 3 (200), not 4 (90)
            "small_old": [False, False, True, False, False],
        }

    def test_a_disabled_rule_has_no_column(self, customers: ir.Table) -> None:
        assert firings(
            customers,
            rule("live", self.ALWAYS),
            rule("retired", self.ALWAYS, "enabled: false"),
        ) == {"live": [True, True, True, True, True]}
