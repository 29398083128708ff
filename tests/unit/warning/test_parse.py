"""Validating rule packs: the typed pack a valid file becomes, and every problem with its line.

Each document is written out below with its line numbers in comments; a test changes one line
and expects the problem on that line, so a problem reported elsewhere fails it.
"""

from __future__ import annotations

import json

import pytest

from churnradar.domain import AlertSeverity, ReasonCode
from churnradar.errors import InvalidInput, Problem
from churnradar.warning import RulePack, default_pack, default_pack_text, parse_pack
from churnradar.warning.parse import locate, pack_from_document, plain
from churnradar.warning.source import read_document
from churnradar.warning.spec import (
    AllOf,
    AnyOf,
    Compare,
    Missing,
    Not,
    Op,
    Rule,
    Scope,
    Sentence,
    Text,
    Threshold,
    TierCuts,
)

# One valid rule; the lines are what the tests below point at.
VALID = """\
rules:
  - key: quiet
    title: {zh: 久未跟进, en: Quiet customer}
    severity: medium
    reason: engagement
    evidence: [days_since_last_follow_up, usual_follow_up_interval_days]
    sentence:
      zh: "已 {days_since_last_follow_up:.0f} 天未跟进"
      en: "No follow-up for {days_since_last_follow_up:.0f} days"
    playbook: re_engage
    when:
      feature: days_since_last_follow_up
      op: ">"
      value: 45
"""
#  1 rules:
#  2   - key: quiet
#  3     title
#  4     severity
#  5     reason
#  6     evidence
#  7     sentence:
#  8       zh
#  9       en
# 10     playbook
# 11     when:
# 12       feature
# 13       op
# 14       value

# The rule without its `when:` block (lines 1-10), for tests that write their own.
HEAD = VALID[: VALID.index("    when:")]

# A health section with one component and one points item; tiers on line 4.
HEALTH = """\
rules: []
health:
  model: weighted
  tiers: {high_below: 50, medium_below: 70}
  points:
    base: 60
    items:
      - feature: complaints_90d
        points: -10
        reason: service
        sentence: {zh: "投诉 {complaints_90d:.0f} 次", en: "{complaints_90d:.0f} complaints"}
  components:
    - key: service
      title: {zh: 服务, en: Service}
      weight: 1
      signals:
        - feature: complaints_90d
          good: 0
          bad: 4
          reason: service
          sentence: {zh: "投诉 {complaints_90d:.0f} 次", en: "{complaints_90d:.0f} complaints"}
"""
# line 16: `signals:`


def edit(text: str, old: str, new: str) -> str:
    """``text`` with the one occurrence of ``old`` replaced (fails if there is not exactly one)."""
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times"
    return text.replace(old, new)


def parse(text: str) -> RulePack:
    return parse_pack(text, defaults=default_pack())


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        parse(text)
    return caught.value.problems


def only_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, [(p.code, p.row, p.column) for p in problems]
    return problems[0]


def where(problem: Problem) -> tuple[str, int | None]:
    return problem.code, problem.row


QUIET = Rule(
    key="quiet",
    title=Text("久未跟进", "Quiet customer"),
    severity=AlertSeverity.MEDIUM,
    reason=ReasonCode.ENGAGEMENT,
    when=Compare("days_since_last_follow_up", Op.GT, value=Threshold(45.0)),
    evidence=("days_since_last_follow_up", "usual_follow_up_interval_days"),
    sentence=Sentence(
        zh=("已 {days_since_last_follow_up:.0f} 天未跟进",),
        en=("No follow-up for {days_since_last_follow_up:.0f} days",),
    ),
    playbook="re_engage",
)


class TestValidPacks:
    def test_a_minimal_pack_takes_playbooks_and_health_from_the_defaults(self) -> None:
        pack = parse(VALID)

        assert pack.rules == (QUIET,)
        assert pack.enabled == (QUIET,)
        assert pack.playbooks == default_pack().playbooks
        assert pack.health == default_pack().health

    def test_without_defaults_the_left_out_sections_are_missing(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            parse_pack(VALID)

        missing = [p for p in caught.value.problems if p.code == "rules.missing_field"]
        assert sorted(p.params["field"] for p in missing) == ["health", "playbooks"]

    def test_every_condition_form_threshold_override_and_scope(self) -> None:
        text = """\
conditions:
  big_account: {feature: revenue_365d, op: ">=", value: 100000}
rules:
  - key: no_follow_up
    title: {zh: 超过 X 天未跟进, en: No follow-up for X days}
    severity: high
    reason: engagement
    min_tenure_days: 60
    segments: [大客户, 中型客户]
    business_models: [noncontract]
    enabled: false
    when:
      all:
        - feature: days_since_last_follow_up
          op: ">"
          value: {default: 45, segment: {大客户: 30}, business_model: {contract: 60}}
        - feature: days_since_last_follow_up
          op: ">"
          ref: usual_follow_up_interval_days
          factor: 2
        - any:
            - missing: latest_nps
            - not: {feature: key_contact_changed_90d, op: "==", value: false}
            - use: big_account
    evidence: [days_since_last_follow_up, usual_follow_up_interval_days]
    sentence:
      zh:
        - "已 {days_since_last_follow_up:.0f} 天未跟进"
        - "（通常 {usual_follow_up_interval_days:.0f} 天一次）"
      en:
        - "No follow-up for {days_since_last_follow_up:.0f} days"
        - " (usually every {usual_follow_up_interval_days:.0f} days)"
    playbook: re_engage
"""
        expected = Rule(
            key="no_follow_up",
            title=Text("超过 X 天未跟进", "No follow-up for X days"),
            severity=AlertSeverity.HIGH,
            reason=ReasonCode.ENGAGEMENT,
            when=AllOf(
                (
                    Compare(
                        "days_since_last_follow_up",
                        Op.GT,
                        value=Threshold(45.0, {"大客户": 30.0}, {"contract": 60.0}),
                    ),
                    Compare(
                        "days_since_last_follow_up",
                        Op.GT,
                        ref="usual_follow_up_interval_days",
                        factor=2.0,
                    ),
                    AnyOf(
                        (
                            Missing("latest_nps"),
                            Not(Compare("key_contact_changed_90d", Op.EQ, value=Threshold(0.0))),
                            Compare("revenue_365d", Op.GE, value=Threshold(100000.0)),
                        )
                    ),
                )
            ),
            evidence=("days_since_last_follow_up", "usual_follow_up_interval_days"),
            sentence=Sentence(
                zh=(
                    "已 {days_since_last_follow_up:.0f} 天未跟进",
                    "（通常 {usual_follow_up_interval_days:.0f} 天一次）",
                ),
                en=(
                    "No follow-up for {days_since_last_follow_up:.0f} days",
                    " (usually every {usual_follow_up_interval_days:.0f} days)",
                ),
            ),
            playbook="re_engage",
            scope=Scope(
                segments=frozenset({"大客户", "中型客户"}),
                business_models=frozenset({"noncontract"}),
                min_tenure_days=60.0,
            ),
            enabled=False,
        )

        pack = parse(text)

        assert pack.rules == (expected,)
        assert pack.enabled == ()

    def test_a_health_section_replaces_the_default_one(self) -> None:
        pack = parse(HEALTH)

        assert pack.rules == ()
        assert pack.health.tiers == TierCuts(high_below=50.0, medium_below=70.0)
        assert [c.key for c in pack.health.components] == ["service"]
        assert pack.health.points.base == 60.0
        assert pack.health.top_reasons == 3

    def test_a_single_document_may_start_with_its_marker(self) -> None:
        assert parse("---\n" + VALID).rules == (QUIET,)

    def test_a_comment_may_come_before_the_document_marker(self) -> None:
        # One document: the header comment and `---` do not make it two.
        assert parse("# our rules\n---\n" + VALID).rules == (QUIET,)


class TestDefaultPack:
    def test_the_shipped_pack_parses_without_defaults(self) -> None:
        pack = parse_pack(default_pack_text())

        # the rules of the docs/rules.md table, in the file's order or not
        assert {rule.key for rule in pack.rules} == {
            "no_follow_up",
            "order_below_usual",
            "complaints",
            "slow_complaint_response",
            "slow_service",
            "quiet_after_complaint",
            "feedback_dropping",
            "key_contact_changed",
            "owner_changed",
            "purchase_cycle_stretching",
            "renewal_overdue",
            "contract_ending_quiet",
            "activity_falling",
            "unhappy_survey",
            "competitor_mentioned",
            "price_rise_felt",
        }
        assert pack.health.tiers == TierCuts(high_below=50.0, medium_below=70.0)
        assert {c.key: c.weight for c in pack.health.components} == {
            "engagement": 0.25,
            "purchasing": 0.25,
            "service": 0.2,
            "satisfaction": 0.15,
            "relationship": 0.15,
        }
        assert all(rule.playbook in pack.playbooks for rule in pack.rules)

    def test_located_plain_values_round_trip(self) -> None:
        document = read_document(default_pack_text())
        stored = json.loads(json.dumps(plain(document), ensure_ascii=False))

        assert plain(locate(stored)) == plain(document)
        assert pack_from_document(locate(stored)) == parse_pack(default_pack_text())

    def test_a_document_without_lines_reports_problems_without_rows(self) -> None:
        stored = plain(read_document(VALID))
        stored["rules"][0]["playbook"] = "reengage"

        with pytest.raises(InvalidInput) as caught:
            pack_from_document(locate(stored), defaults=default_pack())

        assert [where(p) for p in caught.value.problems] == [("rules.unknown_playbook", None)]


class TestDocumentProblems:
    def test_yaml_syntax_error(self) -> None:
        text = edit(VALID, "title: {zh: 久未跟进, en: Quiet customer}", "title: Quiet: customer")

        problem = only_problem(text)

        assert where(problem) == ("rules.yaml_error", 3)

    def test_tag_refused(self) -> None:
        text = edit(VALID, "value: 45", 'value: !!python/object/apply:os.system ["echo pwned"]')

        problem = only_problem(text)

        assert where(problem) == ("rules.tag_refused", 14)
        assert problem.params["tag"] == "tag:yaml.org,2002:python/object/apply:os.system"

    def test_anchor_and_alias_refused(self) -> None:
        text = (
            "conditions:\n"
            '  quiet: &q {feature: days_since_last_follow_up, op: ">", value: 45}\n'
            + HEAD
            + "    when: *q\n"
        )
        # line 2 the anchor; HEAD takes lines 3-12, `when: *q` is line 13

        assert [where(p) for p in problems_of(text)] == [
            ("rules.alias_refused", 2),
            ("rules.alias_refused", 13),
        ]

    def test_several_documents_refused(self) -> None:
        assert where(only_problem("rules: []\n---\nrules: []\n")) == ("rules.several_documents", 2)

    def test_duplicate_key(self) -> None:
        text = edit(VALID, "    severity: medium\n", "    severity: medium\n    severity: high\n")

        problem = only_problem(text)

        assert where(problem) == ("rules.duplicate_key", 5)
        assert problem.params["key"] == "severity"

    @pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "\n\n"])
    def test_empty_file(self, text: str) -> None:
        assert where(only_problem(text)) == ("rules.empty_file", 1)


class TestRuleProblems:
    def test_unknown_field(self) -> None:
        text = edit(
            VALID, "    playbook: re_engage\n", "    playbook: re_engage\n    colour: red\n"
        )

        problem = only_problem(text)

        assert where(problem) == ("rules.unknown_field", 11)
        assert problem.params["field"] == "colour"

    def test_unknown_field_with_a_nested_value_is_reported_on_its_own_line(self) -> None:
        text = VALID + "    colour:\n      shade: red\n"
        # line 15 `colour:`, line 16 its value

        problem = only_problem(text)

        assert where(problem) == ("rules.unknown_field", 15)

    def test_missing_required_field(self) -> None:
        text = edit(VALID, "    severity: medium\n", "")

        problem = only_problem(text)

        # reported on the rule's first line
        assert where(problem) == ("rules.missing_field", 2)
        assert problem.params["field"] == "severity"

    def test_unknown_feature_suggests_the_close_names(self) -> None:
        text = edit(
            VALID,
            "feature: days_since_last_follow_up",
            "feature: days_since_last_folow_up",
        )

        problem = only_problem(text)

        assert where(problem) == ("rules.unknown_feature", 12)
        assert problem.params["close"].split(", ")[0] == "days_since_last_follow_up"

    def test_text_where_a_number_belongs(self) -> None:
        problem = only_problem(edit(VALID, "value: 45", "value: forty-five"))

        assert where(problem) == ("rules.not_number", 14)

    def test_greater_than_on_a_flag(self) -> None:
        text = edit(VALID, "feature: days_since_last_follow_up", "feature: key_contact_changed_90d")

        problem = only_problem(text)

        assert where(problem) == ("rules.flag_op", 13)

    def test_ref_of_another_unit(self) -> None:
        text = edit(VALID, "feature: days_since_last_follow_up", "feature: last_order_amount")
        text = edit(text, "value: 45", "ref: days_since_last_follow_up")

        problem = only_problem(text)

        assert where(problem) == ("rules.unit_mismatch", 14)
        assert (problem.params["unit"], problem.params["ref_unit"]) == ("money", "days")

    def test_circular_named_conditions(self) -> None:
        text = (
            "conditions:\n"
            "  a: {use: b}\n"
            "  b: {any: [{missing: latest_nps}, {use: a}]}\n" + HEAD + "    when: {use: a}\n"
        )
        # the cycle closes at `{use: a}` on line 3

        problem = only_problem(text)

        assert where(problem) == ("rules.circular", 3)
        assert problem.params["cycle"] == "a → b → a"

    def test_a_named_condition_no_rule_uses_is_still_checked(self) -> None:
        text = (
            'conditions:\n  spare: {feature: days_since_last_folow_up, op: ">", value: 1}\n' + VALID
        )

        assert where(only_problem(text)) == ("rules.unknown_feature", 2)

    def test_unknown_named_condition(self) -> None:
        problem = only_problem(HEAD + "    when: {use: nope}\n")

        assert where(problem) == ("rules.unknown_condition", 11)
        assert problem.params["value"] == "'nope'"

    def test_unknown_playbook(self) -> None:
        problem = only_problem(edit(VALID, "playbook: re_engage", "playbook: reengage"))

        assert where(problem) == ("rules.unknown_playbook", 10)

    @pytest.mark.parametrize(
        "placeholder", ["{orders_90d.__class__}", "{orders_90d[0]}", "{orders_90d.real:.0f}"]
    )
    def test_placeholder_with_attribute_or_index_access(self, placeholder: str) -> None:
        # orders_90d is evidence here: only the bare name is allowed
        text = edit(VALID, "usual_follow_up_interval_days]", "orders_90d]")
        text = edit(text, 'en: "No follow-up for', f'en: "{placeholder} No follow-up for')

        problem = only_problem(text)

        assert where(problem) == ("rules.template_field", 9)
        assert problem.params["field"] == placeholder[1:-1].split(":", maxsplit=1)[0]

    def test_placeholder_that_is_not_evidence(self) -> None:
        text = edit(
            VALID, 'en: "No follow-up for', 'en: "{orders_90d:.0f} orders; no follow-up for'
        )

        problem = only_problem(text)

        assert where(problem) == ("rules.template_field", 9)
        assert problem.params["field"] == "orders_90d"

    @pytest.mark.parametrize(
        "placeholder",
        [
            "{days_since_last_follow_up!r}",
            "{days_since_last_follow_up:>10}",
            "{days_since_last_follow_up:{usual_follow_up_interval_days}}",
        ],
    )
    def test_bad_format_spec(self, placeholder: str) -> None:
        text = edit(VALID, "{days_since_last_follow_up:.0f} days", f"{placeholder} days")

        problem = only_problem(text)

        assert where(problem) == ("rules.bad_format", 9)

    def test_duplicate_rule_key(self) -> None:
        text = VALID + VALID.removeprefix("rules:\n")
        # the second rule takes lines 15-28

        problem = only_problem(text)

        assert where(problem) == ("rules.duplicate_rule", 15)
        assert problem.params["key"] == "quiet"

    @pytest.mark.parametrize("field", ["segments", "business_models"])
    def test_an_empty_scope_list_is_reported(self, field: str) -> None:
        # an empty list cannot be a scope: the rule is refused, so the file must say why
        text = VALID + f"    {field}: []\n"  # line 15

        problem = only_problem(text)

        assert problem.row == 15

    def test_several_problems_are_all_reported(self) -> None:
        text = edit(VALID, "severity: medium", "severity: urgent")
        text = edit(text, "playbook: re_engage", "playbook: reengage")
        text = edit(text, "feature: days_since_last_follow_up", "feature: days_since_last_folow_up")

        with pytest.raises(InvalidInput) as caught:
            parse(text)

        assert [where(p) for p in caught.value.problems] == [
            ("rules.bad_choice", 4),
            ("rules.unknown_playbook", 10),
            ("rules.unknown_feature", 12),
        ]
        assert caught.value.params["count"] == 3


class TestHealthProblems:
    def test_tiers_out_of_order(self) -> None:
        text = edit(
            HEALTH, "{high_below: 50, medium_below: 70}", "{high_below: 70, medium_below: 50}"
        )

        problem = only_problem(text)

        assert where(problem) == ("rules.tier_order", 4)

    def test_a_component_without_signals_is_reported(self) -> None:
        start = HEALTH.index("      signals:")
        text = HEALTH[:start] + "      signals: []\n"  # line 16

        problem = only_problem(text)

        assert problem.row == 16
