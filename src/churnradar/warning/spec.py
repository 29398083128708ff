"""What a rule pack says, as typed values: rules with their conditions, playbooks, the health
score's signals and weights, the points model and the risk-tier cut-offs.

Built only by :mod:`churnradar.warning.parse`, which validates a YAML or JSON document; the
document format is described in docs/rules.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from churnradar.domain import AlertSeverity, ReasonCode, RiskTier
from churnradar.domain.labels import Labelled


class Op(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="


@dataclass(frozen=True)
class Threshold:
    """A number that may differ by segment and by business model: the segment's value wins,
    then the business model's, then ``default``; with no default a customer that matches
    neither has no threshold, and the comparison is false for him."""

    default: float | None
    by_segment: Mapping[str, float] = field(default_factory=dict)
    by_business_model: Mapping[str, float] = field(default_factory=dict)

    def is_constant(self) -> bool:
        return not self.by_segment and not self.by_business_model


@dataclass(frozen=True)
class Compare:
    """``feature op value``, or ``feature op factor x ref`` (a ratio to another feature).
    False when a feature it reads is missing."""

    feature: str
    op: Op
    value: Threshold | None = None
    ref: str | None = None
    factor: float = 1.0


@dataclass(frozen=True)
class Missing:
    """True when the feature has no value (nothing to measure)."""

    feature: str


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    part: Condition


Condition = Compare | Missing | AllOf | AnyOf | Not


@dataclass(frozen=True)
class Text(Labelled):
    zh: str
    en: str


@dataclass(frozen=True)
class Sentence:
    """A one-line reason, per locale a sequence of fragments such as ``已 {days:.0f} 天未跟进``;
    a fragment that names a missing value is left out (docs/rules.md)."""

    zh: tuple[str, ...]
    en: tuple[str, ...]

    def fragments(self, locale: str) -> tuple[str, ...]:
        return self.zh if locale.startswith("zh") else self.en


@dataclass(frozen=True)
class Playbook:
    key: str
    reason: ReasonCode
    title: Text
    steps_zh: tuple[str, ...]
    steps_en: tuple[str, ...]

    def steps(self, locale: str) -> tuple[str, ...]:
        return self.steps_zh if locale.startswith("zh") else self.steps_en


@dataclass(frozen=True)
class Scope:
    """Which customers a rule looks at; ``None`` means all."""

    segments: frozenset[str] | None = None
    business_models: frozenset[str] | None = None
    min_tenure_days: float | None = None


@dataclass(frozen=True)
class Rule:
    key: str
    title: Text
    severity: AlertSeverity
    reason: ReasonCode
    when: Condition
    evidence: tuple[str, ...]
    sentence: Sentence
    playbook: str
    scope: Scope = Scope()
    enabled: bool = True


@dataclass(frozen=True)
class Signal:
    """One part of a health component: the feature's value mapped linearly from ``good``
    (100 points) to ``bad`` (0 points), clipped; either may be the larger."""

    feature: str
    good: float
    bad: float
    weight: float
    reason: ReasonCode
    sentence: Sentence


@dataclass(frozen=True)
class Component:
    key: str
    title: Text
    weight: float
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class PointsItem:
    """``points`` per unit of the feature (a count), counting at most ``cap`` units."""

    feature: str
    points: float
    cap: float | None
    reason: ReasonCode
    sentence: Sentence


class HealthModel(StrEnum):
    WEIGHTED = "weighted"
    POINTS = "points"


@dataclass(frozen=True)
class PointsModel:
    base: float
    items: tuple[PointsItem, ...]


@dataclass(frozen=True)
class TierCuts:
    """Health below ``high_below`` is high risk, below ``medium_below`` medium, else low."""

    high_below: float = 50.0
    medium_below: float = 70.0

    def tier_order(self) -> tuple[tuple[RiskTier, float], ...]:
        return ((RiskTier.HIGH, self.high_below), (RiskTier.MEDIUM, self.medium_below))


@dataclass(frozen=True)
class Health:
    model: HealthModel
    components: tuple[Component, ...]
    points: PointsModel
    tiers: TierCuts
    top_reasons: int = 3


@dataclass(frozen=True)
class RulePack:
    rules: tuple[Rule, ...]
    playbooks: Mapping[str, Playbook]
    health: Health

    @property
    def enabled(self) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.enabled)

    def rule(self, key: str) -> Rule:
        return next(rule for rule in self.rules if rule.key == key)

    def features(self) -> frozenset[str]:
        """Every feature the enabled rules and the health score read."""
        used: set[str] = set()
        for rule in self.enabled:
            used.update(condition_features(rule.when), rule.evidence)
            if rule.scope.min_tenure_days is not None:
                used.add("tenure_days")
        for component in self.health.components:
            used.update(signal.feature for signal in component.signals)
        used.update(item.feature for item in self.health.points.items)
        return frozenset(used)


def condition_features(condition: Condition) -> set[str]:
    match condition:
        case Compare(feature=feature, ref=ref):
            return {feature} | ({ref} if ref else set())
        case Missing(feature=feature):
            return {feature}
        case AllOf(parts=parts) | AnyOf(parts=parts):
            return set().union(*(condition_features(part) for part in parts))
        case Not(part=part):
            return condition_features(part)
    raise TypeError(condition)
