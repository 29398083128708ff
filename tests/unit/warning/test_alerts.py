"""Alerts from firings: one row per customer and firing rule, with the evidence of that day."""

from __future__ import annotations

import pyarrow as pa

from churnradar.warning import default_pack, parse_pack
from churnradar.warning.alerts import alert_sentence, rule_alerts

PACK = parse_pack(
    """
rules:
  - key: quiet
    title: {zh: 久未跟进, en: Quiet}
    severity: medium
    reason: engagement
    when: {feature: days_since_last_follow_up, op: ">", value: 60}
    evidence: [days_since_last_follow_up, usual_follow_up_interval_days]
    sentence:
      zh:
        - "已 {days_since_last_follow_up:.0f} 天未跟进"
        - "（通常 {usual_follow_up_interval_days:.0f} 天）"
      en:
        - "Quiet for {days_since_last_follow_up:.0f} days"
        - " (usually {usual_follow_up_interval_days:.0f})"
    playbook: re_engage
  - key: angry
    title: {zh: 投诉, en: Complaints}
    severity: high
    reason: service
    when: {feature: complaints_90d, op: ">=", value: 2}
    evidence: [complaints_90d]
    sentence: {zh: "投诉 {complaints_90d:.0f} 次", en: "{complaints_90d:.0f} complaints"}
    playbook: service_recovery
""",
    defaults=default_pack(),
)


def _evaluated() -> pa.Table:
    return pa.table(
        {
            "customer_id": pa.array([1, 2, 3], pa.int64()),
            "quiet": [True, False, True],
            "angry": [True, None, False],
            "days_since_last_follow_up": [75.2, 3.0, 90.0],
            "usual_follow_up_interval_days": [10.0, 4.0, None],
            "complaints_90d": pa.array([3, 0, 0], pa.int64()),
        }
    )


def test_one_alert_per_customer_and_firing_rule_with_its_evidence() -> None:
    alerts = rule_alerts(PACK, _evaluated()).to_pylist()
    found = [
        (a["customer_id"], a["rule"], a["severity"], a["reason"], a["playbook"]) for a in alerts
    ]
    assert sorted(found) == [
        (1, "angry", "high", "service", "service_recovery"),
        (1, "quiet", "medium", "engagement", "re_engage"),
        (3, "quiet", "medium", "engagement", "re_engage"),
    ]
    evidence = {(a["customer_id"], a["rule"]): dict(a["evidence"]) for a in alerts}
    assert evidence[(1, "quiet")] == {
        "days_since_last_follow_up": 75.2,
        "usual_follow_up_interval_days": 10.0,
    }
    assert evidence[(3, "quiet")] == {
        "days_since_last_follow_up": 90.0,
        "usual_follow_up_interval_days": None,
    }
    assert evidence[(1, "angry")] == {"complaints_90d": 3.0}


def test_the_sentence_comes_from_the_evidence_in_the_readers_language() -> None:
    alerts = {(a["customer_id"], a["rule"]): a for a in rule_alerts(PACK, _evaluated()).to_pylist()}
    first, third = dict(alerts[(1, "quiet")]["evidence"]), dict(alerts[(3, "quiet")]["evidence"])
    assert alert_sentence(PACK, "quiet", first, "zh-CN") == "已 75 天未跟进（通常 10 天）"
    assert alert_sentence(PACK, "quiet", third, "zh-CN") == "已 90 天未跟进"
    assert alert_sentence(PACK, "quiet", first, "en") == "Quiet for 75 days (usually 10)"


def test_no_firing_gives_an_empty_table_of_the_same_shape() -> None:
    quiet = _evaluated().set_column(1, "quiet", pa.array([False] * 3))
    quiet = quiet.set_column(2, "angry", pa.array([False] * 3))
    alerts = rule_alerts(PACK, quiet)
    assert alerts.num_rows == 0
    assert alerts.schema == rule_alerts(PACK, _evaluated()).schema
