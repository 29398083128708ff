"""The rule pack in the database: every rule versioned, the pack's playbooks and health
settings beside it.

A rule's row is never changed: saving a pack adds a version for each rule whose document or
enabled state differs from its latest version, and a disabled version for each rule the pack
no longer has. The current pack is the latest version of every key. The documents are the
rule file's own values (validated by the warning package before they get here), so the rule
as written can always be shown again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from churnradar.store.tables import Rule, Setting

PLAYBOOKS_SETTING = "warning.playbooks"
HEALTH_SETTING = "warning.health"


@dataclass(frozen=True)
class StoredRule:
    key: str
    version: int
    enabled: bool
    document: dict[str, Any]


@dataclass(frozen=True)
class StoredPack:
    rules: list[StoredRule]
    playbooks: dict[str, Any] | None
    health: dict[str, Any] | None


@dataclass(frozen=True)
class PackChanges:
    added: list[str]
    changed: list[str]
    disabled: list[str]
    unchanged: list[str]


def current_pack(engine: Engine) -> StoredPack | None:
    """The latest version of every rule (disabled ones too), in the order the keys were
    first saved; ``None`` when no pack was ever saved."""
    latest = (
        select(Rule.key, func.max(Rule.version).label("version"), func.min(Rule.id).label("first"))
        .group_by(Rule.key)
        .subquery()
    )
    query = (
        select(Rule)
        .join(latest, (Rule.key == latest.c.key) & (Rule.version == latest.c.version))
        .order_by(latest.c.first)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        wanted = Setting.key.in_((PLAYBOOKS_SETTING, HEALTH_SETTING))
        found = connection.execute(select(Setting.key, Setting.value).where(wanted))
        settings: dict[str, dict[str, Any]] = {row[0]: row[1] for row in found}
    if not rows and not settings:
        return None
    rules = [StoredRule(row.key, row.version, row.enabled, row.spec) for row in rows]
    return StoredPack(rules, settings.get(PLAYBOOKS_SETTING), settings.get(HEALTH_SETTING))


def save_pack(
    engine: Engine,
    rules: list[tuple[str, str, str, dict[str, Any], bool]],
    *,
    playbooks: dict[str, Any] | None,
    health: dict[str, Any] | None,
    user_id: int | None = None,
) -> PackChanges:
    """Save a validated pack in one transaction. ``rules`` are (key, title_zh, title_en,
    document, enabled); ``playbooks`` and ``health`` replace the stored ones when given."""
    current = current_pack(engine)
    latest = {rule.key: rule for rule in current.rules} if current else {}
    changes = PackChanges(added=[], changed=[], disabled=[], unchanged=[])
    versions: list[dict[str, Any]] = []
    for key, title_zh, title_en, document, enabled in rules:
        before = latest.get(key)
        if before is not None and before.document == document and before.enabled == enabled:
            changes.unchanged.append(key)
            continue
        (changes.changed if before is not None else changes.added).append(key)
        versions.append(
            {"key": key, "version": before.version + 1 if before else 1, "title_zh": title_zh,
             "title_en": title_en, "spec": document, "enabled": enabled, "created_by": user_id}
        )  # fmt: skip
    named = {key for key, *_ in rules}
    for key, rule in latest.items():
        if key in named or not rule.enabled:
            continue
        changes.disabled.append(key)
        title = rule.document.get("title", {})
        versions.append(
            {"key": key, "version": rule.version + 1, "title_zh": title.get("zh", key),
             "title_en": title.get("en", key), "spec": rule.document, "enabled": False,
             "created_by": user_id}
        )  # fmt: skip
    with engine.begin() as connection:
        if versions:
            connection.execute(insert(Rule), versions)
        for setting, value in ((PLAYBOOKS_SETTING, playbooks), (HEALTH_SETTING, health)):
            if value is None:
                continue
            stored = connection.execute(
                update(Setting)
                .where(Setting.key == setting)
                .values(value=value, updated_by=user_id)
            )
            if stored.rowcount == 0:
                connection.execute(
                    insert(Setting).values(key=setting, value=value, updated_by=user_id)
                )
    return changes
