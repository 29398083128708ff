"""Saving rule packs: versions, disabling, the pack in force and its export, on each backend."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, select

from churnradar.errors import InvalidInput
from churnradar.store.tables import Rule
from churnradar.warning import default_pack, default_pack_text
from churnradar.workflow.rule_packs import (
    load_rule_file,
    pack_in_force,
    pack_in_force_text,
    read_rule_file,
)

RULE = """
rules:
  - key: quiet
    title: {{zh: 久未跟进, en: Quiet}}
    severity: medium
    reason: engagement
    when: {{feature: days_since_last_follow_up, op: ">", value: {days}}}
    evidence: [days_since_last_follow_up]
    sentence: {{zh: "已 {{days_since_last_follow_up:.0f}} 天未跟进", en: "Quiet"}}
    playbook: re_engage
"""
SECOND = """
  - key: complaining
    title: {zh: 投诉多, en: Complaints}
    severity: high
    reason: service
    when: {feature: complaints_90d, op: ">=", value: 2}
    evidence: [complaints_90d]
    sentence: {zh: "投诉多", en: "Complaints"}
    playbook: service_recovery
"""


def _write(tmp_path: Path, text: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _versions(engine: Engine) -> list[tuple[str, int, bool]]:
    with engine.connect() as connection:
        rows = connection.execute(select(Rule.key, Rule.version, Rule.enabled).order_by(Rule.id))
        return [tuple(row) for row in rows]


def test_the_shipped_pack_is_in_force_until_one_is_loaded(engine: Engine) -> None:
    assert pack_in_force(engine) == default_pack()
    assert pack_in_force_text(engine) == default_pack_text()


def test_loading_versions_changed_rules_and_disables_dropped_ones(
    engine: Engine, tmp_path: Path
) -> None:
    first = load_rule_file(engine, read_rule_file(_write(tmp_path, RULE.format(days=30) + SECOND)))
    assert (first.added, first.changed, first.disabled) == (["quiet", "complaining"], [], [])

    again = load_rule_file(engine, read_rule_file(_write(tmp_path, RULE.format(days=30) + SECOND)))
    assert again.unchanged == ["quiet", "complaining"]
    assert _versions(engine) == [("quiet", 1, True), ("complaining", 1, True)]

    changed = load_rule_file(engine, read_rule_file(_write(tmp_path, RULE.format(days=45))))
    assert (changed.changed, changed.disabled) == (["quiet"], ["complaining"])
    assert _versions(engine)[2:] == [("quiet", 2, True), ("complaining", 2, False)]

    pack = pack_in_force(engine)
    assert [rule.key for rule in pack.enabled] == ["quiet"]
    assert pack.rule("quiet").when.value.default == 45  # type: ignore[union-attr]
    assert not pack.rule("complaining").enabled
    # playbooks and health were not in the file: the shipped ones apply
    assert pack.health == default_pack().health


def test_the_exported_pack_loads_back_unchanged(engine: Engine, tmp_path: Path) -> None:
    load_rule_file(engine, read_rule_file(_write(tmp_path, RULE.format(days=30) + SECOND)))
    exported = pack_in_force_text(engine)
    assert yaml.safe_load(exported)["rules"][0]["key"] == "quiet"
    again = load_rule_file(engine, read_rule_file(_write(tmp_path, exported, "exported.yaml")))
    assert again.unchanged == ["quiet", "complaining"]
    assert pack_in_force(engine).rules == read_rule_file(tmp_path / "exported.yaml").pack.rules


def test_health_settings_in_the_file_replace_the_stored_ones(
    engine: Engine, tmp_path: Path
) -> None:
    document = yaml.safe_load(default_pack_text())
    document["health"]["tiers"] = {"high_below": 40, "medium_below": 65}
    load_rule_file(
        engine, read_rule_file(_write(tmp_path, yaml.safe_dump(document, allow_unicode=True)))
    )
    assert pack_in_force(engine).health.tiers.medium_below == 65
    document["health"]["model"] = "points"
    load_rule_file(
        engine, read_rule_file(_write(tmp_path, yaml.safe_dump(document, allow_unicode=True)))
    )
    assert pack_in_force(engine).health.model.value == "points"


def test_a_bad_file_saves_nothing(engine: Engine, tmp_path: Path) -> None:
    load_rule_file(engine, read_rule_file(_write(tmp_path, RULE.format(days=30))))
    with pytest.raises(InvalidInput) as caught:
        read_rule_file(_write(tmp_path, RULE.format(days="soon")))
    assert [problem.code for problem in caught.value.problems] == ["rules.not_number"]
    assert caught.value.problems[0].row == 7  # the template starts with an empty line
    assert _versions(engine) == [("quiet", 1, True)]


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("rules: [caf\xe9]".encode("latin-1"))
    with pytest.raises(InvalidInput) as caught:
        read_rule_file(path)
    assert caught.value.key == "rules.unreadable"
    with pytest.raises(InvalidInput):
        read_rule_file(tmp_path / "missing.yaml")
