"""Segmentation vocabulary (客户分级 / 分群 / 标签): RFM segments, value tiers, the four action
groups of the seeds and the automatic tags, each with a stable code and zh/en labels, and the
thresholds the analytics layer takes as configuration.

The rules themselves are documented in docs/segments.md; the RFM grid is :data:`RFM_GRID`
below, the one place it is written down. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from churnradar.domain.labels import Described

FIVE_POINT = 5  # the RFM grid and the action-group rules read scores on a 1..5 scale


@dataclass(frozen=True)
class Term(Described):
    """A code with its labels and a one-line meaning in both languages."""

    code: str
    zh: str
    en: str
    meaning_zh: str
    meaning_en: str


class RfmSegment(StrEnum):
    """The eleven common RFM segment names."""

    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALIST = "potential_loyalist"
    NEW = "new"
    PROMISING = "promising"
    NEED_ATTENTION = "need_attention"
    ABOUT_TO_SLEEP = "about_to_sleep"
    AT_RISK = "at_risk"
    CANT_LOSE = "cant_lose"
    HIBERNATING = "hibernating"
    LOST = "lost"


class ValueTier(StrEnum):
    """Value tiers by trailing-12-month value. Upper-case letters, as people write them and
    as ``customers.tier`` holds them (an imported tier column uses the same letters)."""

    A = "A"
    B = "B"
    C = "C"


class ActionGroup(StrEnum):
    """The four action groups of the seeds (高价值 / 潜力 / 流失预警 / 低价值)."""

    HIGH_VALUE = "high_value"
    POTENTIAL = "potential"
    CHURN_WARNING = "churn_warning"
    LOW_VALUE = "low_value"


class AutoTag(StrEnum):
    """Tags every segmentation run sets (``customer_tags.source = 'auto'``)."""

    NEW_CUSTOMER = "new_customer"
    BIG_SPENDER = "big_spender"
    SILENT = "silent"
    COMPLAINER = "complainer"
    CONTRACT_ENDING = "contract_ending"
    KEY_CONTACT_CHANGED = "key_contact_changed"
    SLIPPING = "slipping"


AUTO_TAG_SOURCE = "auto"
MANUAL_TAG_SOURCE = "manual"

_S = RfmSegment
SEGMENT_TERMS: tuple[Term, ...] = (
    Term(_S.CHAMPIONS, "重要价值客户", "Champions",
         "最近买过、买得多、花得多。", "Bought recently, buy often and spend the most."),
    Term(_S.LOYAL, "忠诚客户", "Loyal",
         "购买频次和金额高，最近仍在购买。", "Buy often and spend well, still buying."),
    Term(_S.POTENTIAL_LOYALIST, "潜在忠诚客户", "Potential loyalist",
         "最近买过，频次和金额中等。", "Recent buyers with average frequency and spend."),
    Term(_S.NEW, "新客户", "New",
         "最近刚买过，但次数和金额还很少。", "Bought very recently, but little so far."),
    Term(_S.PROMISING, "有潜力客户", "Promising",
         "较近买过，次数和金额少。", "Fairly recent buyers who have bought little."),
    Term(_S.NEED_ATTENTION, "需要关注客户", "Need attention",
         "各项都处于中游，需要推动。", "Middling on every score; need a push."),
    Term(_S.ABOUT_TO_SLEEP, "即将沉睡客户", "About to sleep",
         "近期性中等，频次和金额低。", "Middling recency, low frequency and spend."),
    Term(_S.AT_RISK, "重要挽留客户", "At risk",
         "曾经买得多、花得多，但很久没买了。", "Bought often and spent well, but long ago."),
    Term(_S.CANT_LOSE, "不能失去的客户", "Can't lose them",
         "频次和金额最高的一档，但很久没买了。", "Top frequency and spend, but long ago."),
    Term(_S.HIBERNATING, "沉睡客户", "Hibernating",
         "很久没买，次数和金额低。", "Long since the last purchase, low frequency and spend."),
    Term(_S.LOST, "流失客户", "Lost",
         "最久没买，次数和金额低。", "Longest since the last purchase, low frequency and spend."),
)  # fmt: skip

# The grid: (segment, r scores, fm scores) on the five-point scale, fm = round((f + m) / 2)
# half up. Every (r, fm) cell belongs to exactly one segment.
RFM_GRID: tuple[tuple[RfmSegment, range, range], ...] = (
    (_S.CHAMPIONS, range(5, 6), range(4, 6)),
    (_S.LOYAL, range(3, 5), range(4, 6)),
    (_S.POTENTIAL_LOYALIST, range(4, 6), range(2, 4)),
    (_S.NEW, range(5, 6), range(1, 2)),
    (_S.PROMISING, range(4, 5), range(1, 2)),
    (_S.NEED_ATTENTION, range(3, 4), range(3, 4)),
    (_S.ABOUT_TO_SLEEP, range(3, 4), range(1, 3)),
    (_S.AT_RISK, range(1, 3), range(3, 5)),
    (_S.CANT_LOSE, range(1, 3), range(5, 6)),
    (_S.HIBERNATING, range(2, 3), range(1, 3)),
    (_S.LOST, range(1, 2), range(1, 3)),
)


def rfm_segment(r: int, fm: int) -> RfmSegment:
    """The segment of five-point scores ``r`` and ``fm``."""
    for segment, rs, fms in RFM_GRID:
        if r in rs and fm in fms:
            return segment
    raise ValueError(f"scores must be 1..5, got r={r}, fm={fm}")


TIER_TERMS: tuple[Term, ...] = (
    Term(ValueTier.A, "A类客户", "Tier A",
         "近12个月价值最高的20%。", "The top 20% by trailing-12-month value."),
    Term(ValueTier.B, "B类客户", "Tier B",
         "近12个月价值其次的30%。", "The next 30% by trailing-12-month value."),
    Term(ValueTier.C, "C类客户", "Tier C",
         "其余客户，包括近12个月没有价值的客户。", "The rest, and every customer without value."),
)  # fmt: skip

ACTION_GROUP_TERMS: tuple[Term, ...] = (
    Term(ActionGroup.HIGH_VALUE, "高价值客户", "High value",
         "价值高且仍然活跃：专属服务、定制关怀。",
         "High value and still active: dedicated service and care."),
    Term(ActionGroup.POTENTIAL, "潜力客户", "Potential",
         "价值不高但最近活跃或刚成为客户：内容激励、体验优化。",
         "Not yet high value but recent, new or engaged: nurture and upsell."),
    Term(ActionGroup.CHURN_WARNING, "流失预警客户", "Churn warning",
         "价值较高但购买或活跃在下降：主动关怀、定向挽回。",
         "Valuable but buying or engaging less: reach out and win back."),
    Term(ActionGroup.LOW_VALUE, "低价值客户", "Low value",
         "低频、低活跃：自动化内容、周期性唤醒。",
         "Low frequency and activity: automated content, periodic wake-up."),
)  # fmt: skip

TAG_TERMS: tuple[Term, ...] = (
    Term(AutoTag.NEW_CUSTOMER, "新客户", "New customer",
         "成为客户不足90天。", "A customer for less than 90 days."),
    Term(AutoTag.BIG_SPENDER, "大客户", "Big spender",
         "价值分级为A类。", "In value tier A."),
    Term(AutoTag.SILENT, "长期未跟进", "No recent follow-up",
         "60天以上没有销售跟进。", "No follow-up by sales for 60 days or more."),
    Term(AutoTag.COMPLAINER, "频繁投诉", "Frequent complaints",
         "近90天投诉2次及以上。", "Two or more complaints in 90 days."),
    Term(AutoTag.CONTRACT_ENDING, "合同即将到期", "Contract ending",
         "生效合同60天内到期。", "A contract term in force ends within 60 days."),
    Term(AutoTag.KEY_CONTACT_CHANGED, "关键联系人变更", "Key contact changed",
         "近90天有关键联系人离任。", "A key contact left in the last 90 days."),
    Term(AutoTag.SLIPPING, "复购周期拉长", "Reorder overdue",
         "距上次下单已超过常规复购周期的2倍。",
         "Over twice the usual interval since the last purchase."),
)  # fmt: skip

_TERMS = {
    entry.code: entry for entry in (*SEGMENT_TERMS, *TIER_TERMS, *ACTION_GROUP_TERMS, *TAG_TERMS)
}


def term(code: str) -> Term:
    """The labels of a segment, tier, action group or tag code; KeyError names the code."""
    return _TERMS[code]


@dataclass(frozen=True, kw_only=True)
class RfmConfig:
    """RFM scoring.

    window_days: frequency and monetary count the purchases of this many days before as_of.
    bins: scores run 1..bins (quantile bins); 2..9, so an rfm_code has one digit per score.
    """

    window_days: int = 365
    bins: int = 5

    def __post_init__(self) -> None:
        if self.window_days <= 0:
            raise ValueError("window_days must be > 0")
        if not 2 <= self.bins <= 9:
            raise ValueError("bins must be in 2..9")


@dataclass(frozen=True, kw_only=True)
class SegmentConfig:
    """Tiers, action groups and tags. Scores below are on the five-point scale.

    tier_a_share, tier_b_share: shares of the customers with value that are A, then B.
    high_value_tiers: tiers that are high value (高价值) when not slipping.
    warning_tiers: tiers that are a churn warning (流失预警) when slipping.
    warning_max_r_score, warning_cycle_ratio, warning_digital_ratio: slipping is an r score at
        most this, or a purchase cycle ratio above this, or (if set) a digital activity ratio
        below this.
    potential_min_r_score, potential_digital_ratio: active (潜力 when not slipping) is an r
        score at least this, a new customer, or a digital activity ratio at least this.
    new_customer_days, silent_days, complainer_complaints, contract_ending_days,
        slipping_cycle_ratio: the thresholds of the tags of the same names.
    """

    rfm: RfmConfig = field(default_factory=RfmConfig)
    tier_a_share: float = 0.2
    tier_b_share: float = 0.3
    high_value_tiers: frozenset[ValueTier] = frozenset({ValueTier.A})
    warning_tiers: frozenset[ValueTier] = frozenset({ValueTier.A, ValueTier.B})
    warning_max_r_score: int = 2
    warning_cycle_ratio: float = 1.5
    warning_digital_ratio: float | None = None
    potential_min_r_score: int = 4
    potential_digital_ratio: float = 1.0
    new_customer_days: int = 90
    silent_days: int = 60
    complainer_complaints: int = 2
    contract_ending_days: int = 60
    slipping_cycle_ratio: float = 2.0

    def __post_init__(self) -> None:
        if self.tier_a_share <= 0 or self.tier_b_share < 0:
            raise ValueError("tier_a_share must be > 0 and tier_b_share >= 0")
        if self.tier_a_share + self.tier_b_share > 1:
            raise ValueError("tier_a_share + tier_b_share must be at most 1")
        for name in ("warning_max_r_score", "potential_min_r_score"):
            if not 1 <= getattr(self, name) <= FIVE_POINT:
                raise ValueError(f"{name} must be in 1..5")
        for name in ("new_customer_days", "silent_days", "complainer_complaints"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
