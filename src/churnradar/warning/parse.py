"""Validating a rule pack document into :class:`~churnradar.warning.spec.RulePack`.

Every problem is collected (not just the first), with the line it is on and a catalogue key,
so the user fixes the whole file in one go. The document's values are only ever compared,
looked up in the feature catalogue or the enums, and copied: nothing is evaluated. Sentence
templates may name features only, with a plain number format (``{days:.0f}``), so a template
cannot reach an attribute or an index of anything.
"""

from __future__ import annotations

import difflib
import math
import re
import string
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from churnradar.domain import AlertSeverity, BusinessModel, ReasonCode
from churnradar.domain.features import FEATURES, Unit
from churnradar.errors import InvalidInput, Problem
from churnradar.warning.source import Located, SourceError, read_document
from churnradar.warning.spec import (
    AllOf,
    AnyOf,
    Compare,
    Component,
    Condition,
    Health,
    HealthModel,
    Missing,
    Not,
    Op,
    Playbook,
    PointsItem,
    PointsModel,
    Rule,
    RulePack,
    Scope,
    Sentence,
    Signal,
    Text,
    Threshold,
    TierCuts,
)

KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
FORMAT_SPEC = re.compile(r"^\+?,?(\.\d)?[f%]?$")
UNITS = {feature.code: feature.unit for feature in FEATURES}
MAX_DEPTH = 20
T = TypeVar("T")


def parse_pack(text: str, *, name: str = "", defaults: RulePack | None = None) -> RulePack:
    """The pack in ``text`` (YAML, or JSON, which is YAML). Sections left out (``playbooks``,
    ``health``) come from ``defaults``. Raises :class:`InvalidInput` listing every problem."""
    try:
        document = read_document(text)
    except SourceError as error:
        raise _invalid(name, error.problems) from None
    return pack_from_document(document, name=name, defaults=defaults)


def pack_from_document(
    document: Located, *, name: str = "", defaults: RulePack | None = None
) -> RulePack:
    reader = _Reader()
    pack = reader.pack(document, defaults)
    if reader.problems or pack is None:
        raise _invalid(name, reader.problems)
    return pack


def locate(value: Any, line: int = 0) -> Located:
    """Plain JSON values (a rule stored in the database) as a document without lines."""
    if isinstance(value, dict):
        return Located({str(k): locate(v, line) for k, v in value.items()}, line)
    if isinstance(value, list):
        return Located([locate(v, line) for v in value], line)
    return Located(value, line)


def plain(located: Located) -> Any:
    """The inverse of :func:`locate`: the JSON value a rule is stored as."""
    if isinstance(located.value, dict):
        return {key: plain(value) for key, value in located.value.items()}
    if isinstance(located.value, list):
        return [plain(value) for value in located.value]
    return located.value


def _invalid(name: str, problems: list[Problem]) -> InvalidInput:
    return InvalidInput(
        "rules.invalid_file",
        file=name or "-",
        count=len(problems),
        problems=sorted(problems, key=lambda p: (p.row or 0, p.code)),
    )


class _Reader:
    """Walks the document, collecting problems; each method returns None on a problem."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.named: dict[str, Located] = {}
        self.resolved: dict[str, Condition | None] = {}

    def problem(self, code: str, at: Located, path: str, **params: Any) -> None:
        self.problems.append(Problem(code, row=at.line or None, column=path, params=params))

    # ---- shapes

    def mapping(
        self, at: Located, path: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()
    ) -> dict[str, Located] | None:
        if not isinstance(at.value, dict):
            self.problem("rules.not_mapping", at, path)
            return None
        for key in at.value:
            if key not in required and key not in optional:
                self.problem(
                    "rules.unknown_field",
                    Located(key, at.key_line(key)),
                    f"{path}.{key}",
                    field=key,
                    allowed=", ".join(required + optional),
                )
        missing = [key for key in required if key not in at.value]
        for key in missing:
            self.problem("rules.missing_field", at, path, field=key)
        return None if missing else at.value

    def sequence(self, at: Located, path: str) -> list[Located] | None:
        if not isinstance(at.value, list):
            self.problem("rules.not_list", at, path)
            return None
        return at.value

    def items(self, at: Located, path: str) -> list[Located] | None:
        """A list that must hold something."""
        found = self.sequence(at, path)
        if found is not None and not found:
            self.problem("rules.empty_list", at, path)
            return None
        return found

    def text(self, at: Located, path: str) -> str | None:
        if not isinstance(at.value, str) or not at.value.strip():
            self.problem("rules.not_text", at, path)
            return None
        return at.value

    def number(self, at: Located, path: str, *, positive: bool = False) -> float | None:
        value = at.value
        try:
            number = float(value) if isinstance(value, int | float) else math.nan
        except OverflowError:
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number):
            self.problem("rules.not_number", at, path, value=_shown(value))
            return None
        if positive and number <= 0:
            self.problem("rules.not_positive", at, path, value=value)
            return None
        return number

    def choice(
        self, at: Located, path: str, kind: Callable[[str], T], allowed: list[str]
    ) -> T | None:
        if isinstance(at.value, str) and at.value in allowed:
            return kind(at.value)
        self.problem(
            "rules.bad_choice", at, path, value=_shown(at.value), allowed=", ".join(allowed)
        )
        return None

    def key(self, at: Located, path: str) -> str | None:
        if isinstance(at.value, str) and KEY.match(at.value):
            return at.value
        self.problem("rules.bad_key", at, path, value=_shown(at.value))
        return None

    def feature(self, at: Located, path: str) -> str | None:
        if isinstance(at.value, str) and at.value in UNITS:
            return at.value
        close = difflib.get_close_matches(str(at.value), UNITS, n=3)
        self.problem(
            "rules.unknown_feature", at, path, value=_shown(at.value), close=", ".join(close) or "-"
        )
        return None

    def bilingual(self, at: Located, path: str) -> Text | None:
        fields = self.mapping(at, path, required=("zh", "en"))
        if fields is None:
            return None
        zh, en = self.text(fields["zh"], f"{path}.zh"), self.text(fields["en"], f"{path}.en")
        return Text(zh, en) if zh and en else None

    def fragments(self, at: Located, path: str, allowed: frozenset[str]) -> tuple[str, ...] | None:
        items = at.value if isinstance(at.value, list) else [at]
        found: list[str] = []
        for index, item in enumerate(items):
            where = f"{path}[{index}]" if isinstance(at.value, list) else path
            fragment = self.text(item, where)
            if fragment is not None and self.template(fragment, item, where, allowed):
                found.append(fragment)
        return tuple(found) if len(found) == len(items) else None

    def template(self, fragment: str, at: Located, path: str, allowed: frozenset[str]) -> bool:
        try:
            parts = list(string.Formatter().parse(fragment))
        except ValueError as error:
            self.problem("rules.bad_template", at, path, reason=str(error))
            return False
        ok = True
        for _, field, spec, conversion in parts:
            if field is None:
                continue
            if conversion or spec is None or not FORMAT_SPEC.match(spec):
                self.problem("rules.bad_format", at, path, field=field, spec=spec or "")
                ok = False
            elif field not in allowed:
                self.problem(
                    "rules.template_field",
                    at,
                    path,
                    field=field,
                    allowed=", ".join(sorted(allowed)) or "-",
                )
                ok = False
        return ok

    def sentence(self, at: Located, path: str, allowed: frozenset[str]) -> Sentence | None:
        fields = self.mapping(at, path, required=("zh", "en"))
        if fields is None:
            return None
        zh = self.fragments(fields["zh"], f"{path}.zh", allowed)
        en = self.fragments(fields["en"], f"{path}.en", allowed)
        return Sentence(zh, en) if zh is not None and en is not None else None

    # ---- the pack

    def pack(self, at: Located, defaults: RulePack | None) -> RulePack | None:
        fields = self.mapping(
            at, "", required=("rules",), optional=("playbooks", "conditions", "health")
        )
        if fields is None:
            return None
        playbooks: Mapping[str, Playbook] | None
        if "playbooks" in fields:
            playbooks = self.playbooks(fields["playbooks"])
        elif defaults is not None:
            playbooks = defaults.playbooks
        else:
            self.problem("rules.missing_field", at, "", field="playbooks")
            playbooks = None
        if "conditions" in fields:
            named = self.mapping(
                fields["conditions"],
                "conditions",
                required=(),
                optional=tuple(_keys(fields["conditions"])),
            )
            for name, body in (named or {}).items():
                if self.key(locate(name, body.line), f"conditions.{name}"):
                    self.named[name] = body
            for name in self.named:
                self.named_condition(name)
        rules = self.rules(fields["rules"], playbooks or {})
        health: Health | None
        if "health" in fields:
            health = self.health(fields["health"])
        elif defaults is not None:
            health = defaults.health
        else:
            self.problem("rules.missing_field", at, "", field="health")
            health = None
        if rules is None or playbooks is None or health is None:
            return None
        return RulePack(rules, playbooks, health)

    def playbooks(self, at: Located) -> dict[str, Playbook] | None:
        entries = self.mapping(at, "playbooks", required=(), optional=tuple(_keys(at)))
        if entries is None:
            return None
        found: dict[str, Playbook] = {}
        for key, body in entries.items():
            path = f"playbooks.{key}"
            fields = self.mapping(body, path, required=("reason", "title", "steps"))
            if fields is None or not self.key(locate(key, body.line), path):
                continue
            reason = self.choice(
                fields["reason"], f"{path}.reason", ReasonCode, _values(ReasonCode)
            )
            title = self.bilingual(fields["title"], f"{path}.title")
            steps = self.mapping(fields["steps"], f"{path}.steps", required=("zh", "en"))
            zh = en = None
            if steps is not None:
                zh = self.fragments(steps["zh"], f"{path}.steps.zh", frozenset())
                en = self.fragments(steps["en"], f"{path}.steps.en", frozenset())
            if reason and title and zh is not None and en is not None:
                found[key] = Playbook(key, reason, title, zh, en)
        return found

    def rules(self, at: Located, playbooks: Mapping[str, Playbook]) -> tuple[Rule, ...] | None:
        items = self.sequence(at, "rules")
        if items is None:
            return None
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            rule = self.rule(item, f"rules[{index}]", playbooks)
            if rule is None:
                continue
            if rule.key in seen:
                self.problem("rules.duplicate_rule", item, f"rules[{index}]", key=rule.key)
                continue
            seen[rule.key] = index
            rules.append(rule)
        return tuple(rules) if len(rules) == len(items) else None

    def rule(self, at: Located, path: str, playbooks: Mapping[str, Playbook]) -> Rule | None:
        fields = self.mapping(
            at,
            path,
            required=(
                "key",
                "title",
                "severity",
                "reason",
                "when",
                "evidence",
                "sentence",
                "playbook",
            ),
            optional=("segments", "business_models", "min_tenure_days", "enabled"),
        )
        if fields is None:
            return None
        key = self.key(fields["key"], f"{path}.key")
        if key:
            path = f"rules.{key}"
        title = self.bilingual(fields["title"], f"{path}.title")
        severity = self.choice(
            fields["severity"], f"{path}.severity", AlertSeverity, _values(AlertSeverity)
        )
        reason = self.choice(fields["reason"], f"{path}.reason", ReasonCode, _values(ReasonCode))
        when = self.condition(fields["when"], f"{path}.when", ())
        evidence = self.evidence(fields["evidence"], f"{path}.evidence")
        sentence = self.sentence(fields["sentence"], f"{path}.sentence", frozenset(evidence or ()))
        playbook = self.text(fields["playbook"], f"{path}.playbook")
        if playbook is not None and playbook not in playbooks:
            self.problem(
                "rules.unknown_playbook",
                fields["playbook"],
                f"{path}.playbook",
                value=playbook,
                allowed=", ".join(sorted(playbooks)) or "-",
            )
            playbook = None
        scope = self.scope(fields, path)
        enabled = fields.get("enabled", Located(True, 0)).value
        if not isinstance(enabled, bool):
            self.problem("rules.not_boolean", fields["enabled"], f"{path}.enabled")
        if (
            key is None
            or title is None
            or severity is None
            or reason is None
            or when is None
            or evidence is None
            or sentence is None
            or playbook is None
            or scope is None
            or not isinstance(enabled, bool)
        ):
            return None
        return Rule(
            key, title, severity, reason, when, evidence, sentence, playbook, scope, enabled
        )

    def evidence(self, at: Located, path: str) -> tuple[str, ...] | None:
        items = self.sequence(at, path)
        if items is None:
            return None
        codes = [self.feature(item, f"{path}[{i}]") for i, item in enumerate(items)]
        if any(code is None for code in codes):
            return None
        return tuple(dict.fromkeys(code for code in codes if code))

    def scope(self, fields: dict[str, Located], path: str) -> Scope | None:
        segments = models = None
        ok = True
        if "segments" in fields:
            items = self.items(fields["segments"], f"{path}.segments") or []
            texts = [self.text(item, f"{path}.segments") for item in items]
            segments = frozenset(t for t in texts if t)
            ok &= bool(items) and None not in texts
        if "business_models" in fields:
            items = self.items(fields["business_models"], f"{path}.business_models") or []
            chosen = [
                self.choice(item, f"{path}.business_models", str, _values(BusinessModel))
                for item in items
            ]
            models = frozenset(c for c in chosen if c)
            ok &= bool(items) and None not in chosen
        tenure = None
        if "min_tenure_days" in fields:
            tenure = self.number(fields["min_tenure_days"], f"{path}.min_tenure_days")
            ok &= tenure is not None
        return Scope(segments, models, tenure) if ok else None

    # ---- conditions

    def condition(self, at: Located, path: str, using: tuple[str, ...]) -> Condition | None:
        if len(using) > MAX_DEPTH or path.count(".") > MAX_DEPTH * 2:
            self.problem("rules.too_deep", at, path)
            return None
        if not isinstance(at.value, dict) or not at.value:
            self.problem("rules.not_condition", at, path)
            return None
        for word in ("all", "any", "not", "use", "missing"):
            if word in at.value:
                fields = self.mapping(at, path, required=(word,))
                if fields is None:
                    return None
                return self.combination(word, fields[word], f"{path}.{word}", using)
        return self.compare(at, path)

    def combination(
        self, word: str, at: Located, path: str, using: tuple[str, ...]
    ) -> Condition | None:
        if word == "not":
            part = self.condition(at, path, using)
            return Not(part) if part is not None else None
        if word == "use":
            return self.use(at, path, using)
        if word == "missing":
            feature = self.feature(at, path)
            return Missing(feature) if feature else None
        items = self.sequence(at, path)
        if items is not None and not items:
            self.problem("rules.empty_list", at, path)
        parts = [self.condition(item, f"{path}[{i}]", using) for i, item in enumerate(items or [])]
        done = tuple(part for part in parts if part is not None)
        if not items or len(done) != len(parts):
            return None
        return AllOf(done) if word == "all" else AnyOf(done)

    def use(self, at: Located, path: str, using: tuple[str, ...]) -> Condition | None:
        name = at.value
        if not isinstance(name, str) or name not in self.named:
            self.problem(
                "rules.unknown_condition",
                at,
                path,
                value=_shown(name),
                allowed=", ".join(sorted(self.named)) or "-",
            )
            return None
        if name in using:
            cycle = " → ".join((*using[using.index(name) :], name))
            self.problem("rules.circular", at, path, cycle=cycle)
            return None
        return self.named_condition(name, using)

    def named_condition(self, name: str, using: tuple[str, ...] = ()) -> Condition | None:
        """Each named condition is checked once, whether or not a rule uses it."""
        if name not in self.resolved:
            body = self.named[name]
            self.resolved[name] = self.condition(body, f"conditions.{name}", (*using, name))
        return self.resolved[name]

    def compare(self, at: Located, path: str) -> Compare | None:
        fields = self.mapping(
            at, path, required=("feature", "op"), optional=("value", "ref", "factor")
        )
        if fields is None:
            return None
        feature = self.feature(fields["feature"], f"{path}.feature")
        op = self.choice(fields["op"], f"{path}.op", Op, _values(Op))
        if ("value" in fields) == ("ref" in fields):
            self.problem("rules.value_or_ref", at, path)
            return None
        if feature is None or op is None:
            return None
        if "value" in fields:
            return self.compare_value(fields, path, feature, op)
        return self.compare_ref(fields, path, feature, op)

    def compare_value(
        self, fields: dict[str, Located], path: str, feature: str, op: Op
    ) -> Compare | None:
        flag = UNITS[feature] is Unit.FLAG
        if "factor" in fields:
            self.problem("rules.factor_without_ref", fields["factor"], f"{path}.factor")
        elif flag and op not in (Op.EQ, Op.NE):
            self.problem("rules.flag_op", fields["op"], f"{path}.op", feature=feature)
        else:
            value = self.threshold(fields["value"], f"{path}.value", flag=flag)
            return Compare(feature, op, value=value) if value is not None else None
        return None

    def compare_ref(
        self, fields: dict[str, Located], path: str, feature: str, op: Op
    ) -> Compare | None:
        ref = self.feature(fields["ref"], f"{path}.ref")
        factor: float | None = 1.0
        if "factor" in fields:
            factor = self.number(fields["factor"], f"{path}.factor", positive=True)
        unit = UNITS[feature]
        if ref is not None and (UNITS[ref] is not unit or unit is Unit.FLAG):
            self.problem(
                "rules.unit_mismatch",
                fields["ref"],
                f"{path}.ref",
                feature=feature,
                unit=unit.value,
                ref=ref,
                ref_unit=UNITS[ref].value,
            )
            return None
        if ref is None or factor is None:
            return None
        return Compare(feature, op, ref=ref, factor=factor)

    def threshold(self, at: Located, path: str, *, flag: bool) -> Threshold | None:
        if not isinstance(at.value, dict):
            value = self.scalar(at, path, flag)
            return Threshold(value) if value is not None else None
        fields = self.mapping(
            at, path, required=(), optional=("default", "segment", "business_model")
        )
        if fields is None:
            return None
        default = None
        if "default" in fields:
            default = self.scalar(fields["default"], f"{path}.default", flag)
        by = {
            word: self.overrides(fields[word], f"{path}.{word}", flag)
            for word in ("segment", "business_model")
            if word in fields
        }
        if ("default" in fields and default is None) or None in by.values():
            return None
        if default is None and not by:
            self.problem("rules.empty_threshold", at, path)
            return None
        return Threshold(default, by.get("segment") or {}, by.get("business_model") or {})

    def overrides(self, at: Located, path: str, flag: bool) -> dict[str, float] | None:
        entries = self.mapping(at, path, required=(), optional=tuple(_keys(at)))
        if entries is None:
            return None
        if not entries:
            self.problem("rules.empty_threshold", at, path)
            return None
        models = _values(BusinessModel)
        if path.endswith("business_model"):
            for name, value in entries.items():
                if name not in models:
                    self.problem(
                        "rules.bad_choice", value, path, value=name, allowed=", ".join(models)
                    )
        values = {
            name: self.scalar(value, f"{path}.{name}", flag) for name, value in entries.items()
        }
        found = {name: value for name, value in values.items() if value is not None}
        return found if len(found) == len(values) else None

    def scalar(self, at: Located, path: str, flag: bool) -> float | None:
        if flag:
            if isinstance(at.value, bool) or at.value in (0, 1):
                return float(at.value)
            self.problem("rules.flag_value", at, path, value=_shown(at.value))
            return None
        return self.number(at, path)

    # ---- the health score

    def health(self, at: Located) -> Health | None:
        fields = self.mapping(
            at,
            "health",
            required=("model", "components", "points", "tiers"),
            optional=("top_reasons",),
        )
        if fields is None:
            return None
        model = self.choice(fields["model"], "health.model", HealthModel, _values(HealthModel))
        components = self.components(fields["components"])
        points = self.points(fields["points"])
        tiers = self.tiers(fields["tiers"])
        top = 3.0
        if "top_reasons" in fields:
            top = self.number(fields["top_reasons"], "health.top_reasons", positive=True) or 0
        if model is None or components is None or points is None or tiers is None or not top:
            return None
        return Health(model, components, points, tiers, int(top))

    def components(self, at: Located) -> tuple[Component, ...] | None:
        items = self.sequence(at, "health.components")
        if not items:
            if items is not None:
                self.problem("rules.empty_list", at, "health.components")
            return None
        found = []
        for index, item in enumerate(items):
            path = f"health.components[{index}]"
            fields = self.mapping(item, path, required=("key", "title", "weight", "signals"))
            if fields is None:
                continue
            key = self.key(fields["key"], f"{path}.key")
            title = self.bilingual(fields["title"], f"{path}.title")
            weight = self.number(fields["weight"], f"{path}.weight", positive=True)
            signals = [
                self.signal(signal, f"{path}.signals[{i}]")
                for i, signal in enumerate(self.items(fields["signals"], f"{path}.signals") or [])
            ]
            if key and title and weight and signals and None not in signals:
                found.append(Component(key, title, weight, tuple(s for s in signals if s)))
        return tuple(found) if len(found) == len(items) else None

    def signal(self, at: Located, path: str) -> Signal | None:
        fields = self.mapping(
            at,
            path,
            required=("feature", "good", "bad", "reason", "sentence"),
            optional=("weight",),
        )
        if fields is None:
            return None
        feature = self.feature(fields["feature"], f"{path}.feature")
        good = self.number(fields["good"], f"{path}.good")
        bad = self.number(fields["bad"], f"{path}.bad")
        if good is not None and good == bad:
            self.problem("rules.good_equals_bad", fields["bad"], f"{path}.bad")
            bad = None
        weight = 1.0
        if "weight" in fields:
            weight = self.number(fields["weight"], f"{path}.weight", positive=True) or 0.0
        reason = self.choice(fields["reason"], f"{path}.reason", ReasonCode, _values(ReasonCode))
        sentence = self.sentence(
            fields["sentence"], f"{path}.sentence", frozenset({feature} if feature else ())
        )
        if feature and good is not None and bad is not None and weight and reason and sentence:
            return Signal(feature, good, bad, weight, reason, sentence)
        return None

    def points(self, at: Located) -> PointsModel | None:
        fields = self.mapping(at, "health.points", required=("base", "items"))
        if fields is None:
            return None
        base = self.number(fields["base"], "health.points.base")
        found = []
        items = self.sequence(fields["items"], "health.points.items") or []
        for index, item in enumerate(items):
            path = f"health.points.items[{index}]"
            entry = self.mapping(
                item, path, required=("feature", "points", "reason", "sentence"), optional=("cap",)
            )
            if entry is None:
                continue
            feature = self.feature(entry["feature"], f"{path}.feature")
            if feature and UNITS[feature] not in (Unit.COUNT, Unit.FLAG):
                self.problem(
                    "rules.points_count",
                    entry["feature"],
                    f"{path}.feature",
                    feature=feature,
                    unit=UNITS[feature].value,
                )
                feature = None
            value = self.number(entry["points"], f"{path}.points")
            cap = None
            if "cap" in entry:
                cap = self.number(entry["cap"], f"{path}.cap", positive=True)
            reason = self.choice(entry["reason"], f"{path}.reason", ReasonCode, _values(ReasonCode))
            sentence = self.sentence(
                entry["sentence"], f"{path}.sentence", frozenset({feature} if feature else ())
            )
            if (
                feature
                and value is not None
                and reason
                and sentence
                and ("cap" not in entry or cap)
            ):
                found.append(PointsItem(feature, value, cap, reason, sentence))
        if base is None or len(found) != len(items) or not items:
            if not items and isinstance(fields["items"].value, list):
                self.problem("rules.empty_list", fields["items"], "health.points.items")
            return None
        return PointsModel(base, tuple(found))

    def tiers(self, at: Located) -> TierCuts | None:
        fields = self.mapping(at, "health.tiers", required=("high_below", "medium_below"))
        if fields is None:
            return None
        high = self.number(fields["high_below"], "health.tiers.high_below")
        medium = self.number(fields["medium_below"], "health.tiers.medium_below")
        if high is None or medium is None:
            return None
        if not 0 <= high <= medium <= 100:
            self.problem("rules.tier_order", at, "health.tiers", high=high, medium=medium)
            return None
        return TierCuts(high, medium)


def _keys(at: Located) -> list[str]:
    return list(at.value) if isinstance(at.value, dict) else []


def _values(kind: Any) -> list[str]:
    return [member.value for member in kind]


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
