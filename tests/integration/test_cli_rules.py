"""``churnradar rules`` and ``churnradar health`` as a new user runs them on a demo company."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from support.cli import churnradar, small_company


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return small_company(tmp_path_factory.mktemp("company"))


def test_a_bad_rule_file_lists_each_problem_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "rules:\n"
        "  - key: quiet\n"
        "    title: {zh: 安静, en: Quiet}\n"
        "    severity: urgent\n"
        "    reason: engagement\n"
        "    when: {feature: days_since_last_folow_up, op: '>', value: 30}\n"
        "    evidence: []\n"
        "    sentence: {zh: 安静, en: Quiet}\n"
        "    playbook: re_engage\n",
        encoding="utf-8",
    )
    done = churnradar(tmp_path, "rules", "check", "bad.yaml", CHURNRADAR_LOCALE="zh-CN")
    assert done.returncode == 2
    assert "规则文件 bad.yaml 有 2 处问题" in done.stderr
    assert "第 4 行（rules.quiet.severity）" in done.stderr
    assert "第 6 行（rules.quiet.when.feature）" in done.stderr
    assert "days_since_last_follow_up" in done.stderr  # the suggestion
    english = churnradar(tmp_path, "rules", "check", "bad.yaml", CHURNRADAR_LOCALE="en")
    assert "line 4 (rules.quiet.severity): 'urgent' is not allowed" in english.stderr


def test_export_check_load_show(company: Path) -> None:
    exported = churnradar(company, "rules", "export", "-o", "pack.yaml")
    assert exported.returncode == 0, exported.stderr
    text = (company / "pack.yaml").read_text(encoding="utf-8")
    checked = churnradar(company, "rules", "check", "pack.yaml", CHURNRADAR_LOCALE="en")
    assert checked.returncode == 0, checked.stderr
    assert "pack.yaml is valid: 16 rules (16 enabled)" in checked.stdout
    edited = text.replace(
        "  - key: owner_changed\n", "  - key: owner_changed\n    enabled: false\n"
    )
    (company / "pack.yaml").write_text(edited, encoding="utf-8")
    loaded = churnradar(company, "rules", "load", "pack.yaml", CHURNRADAR_LOCALE="en")
    assert loaded.returncode == 0, loaded.stderr
    assert "16 added, 0 changed" in loaded.stdout
    shown = churnradar(company, "rules", "show", CHURNRADAR_LOCALE="en", COLUMNS="200")
    line = next(row for row in shown.stdout.splitlines() if "owner_changed" in row)
    assert "no" in line.split("│")[-2]


def test_health_lists_tiers_rules_and_the_worst_customers(company: Path) -> None:
    done = churnradar(
        company,
        "health",
        "--as-of",
        "2026-04-01",
        "--lowest",
        "3",
        CHURNRADAR_LOCALE="zh-CN",
        COLUMNS="200",
    )
    assert done.returncode == 0, done.stderr
    assert "位在营客户的健康度" in done.stdout
    for heading in ("风险等级", "触发的预警规则", "健康度最低的客户"):
        assert heading in done.stdout


def test_backtest_prints_every_rule_and_json_has_the_figures(company: Path) -> None:
    done = churnradar(
        company,
        "rules",
        "backtest",
        "--as-of",
        "2026-04-01",
        "--step",
        "28",
        "--format",
        "json",
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    rules = [grade["rule"] for grade in result["grades"]]
    assert rules[-2:] == ["health_below", "__pack__"]
    assert result["dates"] == len(range(0, 365 + 1, 28))
    pack = result["grades"][-1]
    assert pack["alerts"] >= max(grade["customers_alerted"] for grade in result["grades"][:-1])
    assert 0 < pack["base_rate"] < 1
    text = churnradar(
        company,
        "rules",
        "backtest",
        "--as-of",
        "2026-04-01",
        "--step",
        "28",
        CHURNRADAR_LOCALE="en",
        COLUMNS="200",
        timeout=600,
    )
    assert "Rule backtest:" in text.stdout
    assert "Whole pack (any rule)" in text.stdout


def test_a_backtest_window_that_cannot_be_is_refused(company: Path) -> None:
    done = churnradar(
        company,
        "rules",
        "backtest",
        "--from",
        "2026-03-01",
        "--to",
        "2026-01-01",
        CHURNRADAR_LOCALE="en",
    )
    assert done.returncode == 2
    assert "--from (2026-03-01) must be before --to (2026-01-01)" in done.stderr
