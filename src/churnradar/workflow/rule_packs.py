"""The rule pack in force: read a rule file, check it, save it as new versions, load it back.

The database holds what was saved with ``churnradar rules load``; before anything is saved the
pack churnradar ships is in force. A stored pack goes through the same validation as a file
when it is read back, so a rule that a newer catalogue no longer supports is reported, not
silently skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from churnradar.errors import InvalidInput
from churnradar.store.rules import PackChanges, StoredPack, current_pack, save_pack
from churnradar.warning import RulePack, default_pack, default_pack_text
from churnradar.warning.parse import locate, pack_from_document, plain
from churnradar.warning.source import Located, SourceError, read_document


@dataclass(frozen=True)
class RuleFile:
    pack: RulePack
    document: Located


def read_rule_file(path: Path) -> RuleFile:
    """Parse and validate the rule file at ``path``; :class:`InvalidInput` lists problems."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput("rules.unreadable", file=str(path), reason=str(error)) from None
    try:
        document = read_document(text)
    except SourceError as error:
        raise InvalidInput(
            "rules.invalid_file", file=path.name, count=len(error.problems), problems=error.problems
        ) from None
    return RuleFile(pack_from_document(document, name=path.name, defaults=default_pack()), document)


def pack_in_force(engine: Engine) -> RulePack:
    stored = current_pack(engine)
    if stored is None:
        return default_pack()
    return pack_from_document(locate(_document(stored)), name="database", defaults=default_pack())


def _document(stored: StoredPack) -> dict[str, Any]:
    """The stored pack as a rule file's document, each rule with its enabled state."""
    document: dict[str, Any] = {}
    if stored.playbooks is not None:
        document["playbooks"] = stored.playbooks
    document["rules"] = [{**rule.document, "enabled": rule.enabled} for rule in stored.rules]
    if stored.health is not None:
        document["health"] = stored.health
    return document


def load_rule_file(
    engine: Engine, rule_file: RuleFile, *, user_id: int | None = None
) -> PackChanges:
    """Save the file's pack as the one in force: changed rules get a new version, rules the
    file lacks are disabled, the playbooks and health settings are replaced when given."""
    sections = rule_file.document.value
    assert isinstance(sections, dict)
    items = sections["rules"].value
    assert isinstance(items, list)
    rules = []
    for item in items:
        document = plain(item)
        enabled = bool(document.pop("enabled", True))
        rule = rule_file.pack.rule(document["key"])
        rules.append((rule.key, rule.title.zh, rule.title.en, document, enabled))
    return save_pack(
        engine,
        rules,
        playbooks=plain(sections["playbooks"]) if "playbooks" in sections else None,
        health=plain(sections["health"]) if "health" in sections else None,
        user_id=user_id,
    )


def pack_in_force_text(engine: Engine) -> str:
    """The pack in force as a rule file: the shipped file until a pack is loaded."""
    stored = current_pack(engine)
    if stored is None:
        return default_pack_text()
    return yaml.safe_dump(_document(stored), allow_unicode=True, sort_keys=False, width=100)
