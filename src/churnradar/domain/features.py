"""The feature catalogue (特征目录): the signals of the seeds, per customer as of a date.

One entry per feature: a stable code (the column name everywhere: the feature table, rule
files, model records, the API), its group and unit, zh/en labels and a one-line meaning in
both languages. The analytics layer computes exactly these codes (a test keeps the two
equal); docs/features.md and the UI read them from here.

Common rules for every feature: only events strictly before ``as_of`` count; a window of n
days is ``[as_of - n days, as_of)``; days and hours are fractional; counts are 0 for a
customer with no events and other features are empty (null) when there is nothing to measure.
A purchase is an order that is not cancelled or refunded; a follow-up is an outbound phone
call, visit, WeChat message, e-mail or meeting; digital activity is app logins, web visits and
e-mail opens. A competitor mention is a text (an interaction's summary, a ticket's subject,
a survey's comment) holding one of ``COMPETITOR_KEYWORDS``, ignoring case.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from churnradar.domain.labels import Described


class FeatureGroup(StrEnum):
    PURCHASING = "purchasing"
    ENGAGEMENT = "engagement"
    SERVICE = "service"
    SATISFACTION = "satisfaction"
    RELATIONSHIP = "relationship"
    CONTRACT = "contract"
    TENURE = "tenure"


class Unit(StrEnum):
    DAYS = "days"
    HOURS = "hours"
    COUNT = "count"
    MONEY = "money"
    RATIO = "ratio"
    SCORE = "score"
    FLAG = "flag"


@dataclass(frozen=True)
class Feature(Described):
    code: str
    group: FeatureGroup
    unit: Unit
    zh: str
    en: str
    meaning_zh: str
    meaning_en: str


# Words that mean a competitor in the notes of a sale, a ticket or a survey, matched
# ignoring case; words starting with a Latin letter or digit only at the start of a word
# ("rival" is not in "arrival"). Left out for matching too much: 对手 (针对手机, 对手续费),
# 同行 (推荐给同行), 竞争 (竞争力), 其他方案 (any alternative, not only a competitor's).
COMPETITOR_KEYWORDS: tuple[str, ...] = (
    "竞品",
    "竞对",
    "竞争对手",
    "竞争产品",
    "友商",
    "别家",
    "其他供应商",
    "其他厂家",
    "其他厂商",
    "其他品牌",
    "别的供应商",
    "别的厂家",
    "换供应商",
    "换厂家",
    "更换供应商",
    "competitor",
    "competing offer",
    "competing vendor",
    "competing supplier",
    "rival",
    "another vendor",
    "other vendor",
    "another supplier",
    "other supplier",
    "alternative vendor",
    "alternative supplier",
    "switch vendor",
    "switch supplier",
    "switching vendor",
    "switching supplier",
)

_P, _E, _S = FeatureGroup.PURCHASING, FeatureGroup.ENGAGEMENT, FeatureGroup.SERVICE
_Q, _R, _C = FeatureGroup.SATISFACTION, FeatureGroup.RELATIONSHIP, FeatureGroup.CONTRACT


def _windows(
    stem: str, group: FeatureGroup, unit: Unit, labels: tuple[str, str], what: tuple[str, str]
) -> list[Feature]:
    (zh, en), (what_zh, what_en) = labels, what
    return [
        Feature(
            f"{stem}_{days}d",
            group,
            unit,
            f"近{days}天{zh}",
            f"{en}, {days} days",
            f"截至当日前{days}天内的{what_zh}。",
            f"{what_en} in the {days} days before the date.",
        )
        for days in (30, 90, 180, 365)
    ]


FEATURES: tuple[Feature, ...] = (
    # --- purchasing -------------------------------------------------------------------
    Feature(
        "days_since_last_order",
        _P,
        Unit.DAYS,
        "距上次下单天数",
        "Days since last order",
        "距最近一次有效订单的天数。",
        "Days since the latest purchase.",
    ),
    *_windows(
        "orders", _P, Unit.COUNT, ("订单数", "Orders"), ("有效订单数", "Number of purchases")
    ),
    *_windows(
        "revenue",
        _P,
        Unit.MONEY,
        ("销售额", "Revenue"),
        ("有效订单金额合计", "Sum of purchase amounts"),
    ),
    Feature(
        "orders_total",
        _P,
        Unit.COUNT,
        "累计订单数",
        "Orders to date",
        "当日之前的全部有效订单数。",
        "All purchases before the date.",
    ),
    Feature(
        "revenue_total",
        _P,
        Unit.MONEY,
        "累计销售额",
        "Revenue to date",
        "当日之前的全部有效订单金额。",
        "Sum of all purchase amounts before the date.",
    ),
    Feature(
        "last_order_amount",
        _P,
        Unit.MONEY,
        "上次订单金额",
        "Last order amount",
        "最近一次有效订单的金额。",
        "Amount of the latest purchase.",
    ),
    Feature(
        "avg_order_amount_365d",
        _P,
        Unit.MONEY,
        "近365天平均订单金额",
        "Average order amount, 365 days",
        "近365天有效订单的平均金额。",
        "Mean purchase amount in the 365 days before the date.",
    ),
    Feature(
        "last_order_amount_ratio",
        _P,
        Unit.RATIO,
        "上次订单金额/历史均值",
        "Last order vs usual amount",
        "最近一次订单金额除以此前各单的平均金额；小于1表示下单金额变小。",
        "Latest purchase amount divided by the mean of the earlier ones; below 1 it shrank.",
    ),
    Feature(
        "usual_purchase_interval_days",
        _P,
        Unit.DAYS,
        "常规复购周期（天）",
        "Usual purchase interval (days)",
        "首次到最近一次有效订单的天数除以间隔数，即平均复购间隔。",
        "Mean gap between purchases: days from the first to the latest over the gaps between.",
    ),
    Feature(
        "purchase_cycle_ratio",
        _P,
        Unit.RATIO,
        "复购周期拉长倍数",
        "Purchase cycle stretch",
        "距上次下单天数除以常规复购周期；大于1表示本轮复购已超出常规周期。",
        "Days since the latest purchase divided by the usual interval; above 1 the reorder"
        " is overdue.",
    ),
    Feature(
        "price_change_ratio",
        _P,
        Unit.RATIO,
        "单价变化倍数",
        "Unit price vs before",
        "近120天所购产品线的平均单价除以此前365天同一产品线的平均单价，取各产品线的最大值；"
        "大于1表示单价上涨。",
        "Mean unit price paid in the last 120 days over the mean for the same product line in"
        " the 365 days before them, the highest over the lines; above 1 he pays more.",
    ),
    # --- engagement -------------------------------------------------------------------
    Feature(
        "days_since_last_follow_up",
        _E,
        Unit.DAYS,
        "距上次跟进天数",
        "Days since last follow-up",
        "距销售最近一次主动跟进（电话、拜访、微信、邮件、会议）的天数。",
        "Days since the latest outbound follow-up (call, visit, WeChat, e-mail, meeting).",
    ),
    Feature(
        "usual_follow_up_interval_days",
        _E,
        Unit.DAYS,
        "常规跟进间隔（天）",
        "Usual follow-up interval (days)",
        "近365天首次到最近一次主动跟进的天数除以间隔数，即平均跟进间隔；不足两次为空。",
        "Mean gap between follow-ups in the 365 days before the date: days from the first to"
        " the latest over the gaps between; empty with fewer than two.",
    ),
    Feature(
        "days_since_last_inbound",
        _E,
        Unit.DAYS,
        "距客户上次主动联系天数",
        "Days since last inbound contact",
        "距客户最近一次主动联系或反馈的天数。",
        "Days since the customer last contacted us.",
    ),
    Feature(
        "follow_ups_90d",
        _E,
        Unit.COUNT,
        "近90天跟进次数",
        "Follow-ups, 90 days",
        "近90天销售主动跟进的次数。",
        "Outbound follow-ups in the 90 days before the date.",
    ),
    Feature(
        "interactions_30d",
        _E,
        Unit.COUNT,
        "近30天互动次数",
        "Interactions, 30 days",
        "近30天全部互动记录数。",
        "All interactions in the 30 days before the date.",
    ),
    Feature(
        "interactions_prior_90d",
        _E,
        Unit.COUNT,
        "前90天互动次数（30天前起）",
        "Interactions, prior 90 days",
        "30天前再往前90天内的互动记录数。",
        "All interactions in the 90 days before the last 30 days.",
    ),
    Feature(
        "activity_ratio",
        _E,
        Unit.RATIO,
        "互动活跃度变化",
        "Activity vs before",
        "近30天互动次数与此前90天月均次数之比；小于1表示互动减少。",
        "Interactions in the last 30 days over the monthly mean of the 90 days before;"
        " below 1 activity fell.",
    ),
    Feature(
        "digital_activity_30d",
        _E,
        Unit.COUNT,
        "近30天线上活跃次数",
        "Digital activity, 30 days",
        "近30天登录、访问网站、打开邮件的次数。",
        "App logins, web visits and e-mail opens in the 30 days before the date.",
    ),
    Feature(
        "digital_activity_ratio",
        _E,
        Unit.RATIO,
        "线上活跃度变化",
        "Digital activity vs before",
        "近30天线上活跃次数与此前90天月均次数之比。",
        "Digital activity in the last 30 days over the monthly mean of the 90 days before.",
    ),
    Feature(
        "inbound_90d",
        _E,
        Unit.COUNT,
        "近90天客户主动反馈次数",
        "Inbound contacts, 90 days",
        "近90天客户主动联系或反馈的次数。",
        "Inbound contacts in the 90 days before the date.",
    ),
    Feature(
        "inbound_change_90d",
        _E,
        Unit.COUNT,
        "客户主动反馈变化",
        "Inbound contacts change",
        "近90天主动反馈次数减去再往前90天的次数；为负表示反馈减少。",
        "Inbound contacts in the last 90 days minus those in the 90 days before.",
    ),
    # --- service ----------------------------------------------------------------------
    Feature(
        "tickets_90d",
        _S,
        Unit.COUNT,
        "近90天工单数",
        "Tickets, 90 days",
        "近90天新建的服务工单数。",
        "Service tickets opened in the 90 days before the date.",
    ),
    Feature(
        "complaints_90d",
        _S,
        Unit.COUNT,
        "近90天投诉次数",
        "Complaints, 90 days",
        "近90天的投诉次数。",
        "Complaints opened in the 90 days before the date.",
    ),
    Feature(
        "complaints_365d",
        _S,
        Unit.COUNT,
        "近365天投诉次数",
        "Complaints, 365 days",
        "近365天的投诉次数。",
        "Complaints opened in the 365 days before the date.",
    ),
    Feature(
        "open_complaints",
        _S,
        Unit.COUNT,
        "未解决投诉数",
        "Open complaints",
        "当日仍未解决的投诉数。",
        "Complaints opened and not resolved before the date.",
    ),
    Feature(
        "latest_complaint_wait_hours",
        _S,
        Unit.HOURS,
        "最近投诉响应时长（小时）",
        "Latest complaint response time (hours)",
        "最近一次投诉到首次响应的小时数；尚未响应则计到当日。",
        "Hours from the latest complaint to its first response, or to the date if none yet.",
    ),
    Feature(
        "mean_first_response_hours_365d",
        _S,
        Unit.HOURS,
        "近365天平均首次响应时长（小时）",
        "Mean first response (hours), 365 days",
        "近365天工单从创建到首次响应的平均小时数（已响应的工单）。",
        "Mean hours to first response of tickets opened in the 365 days before the date.",
    ),
    Feature(
        "mean_resolution_hours_365d",
        _S,
        Unit.HOURS,
        "近365天平均解决时长（小时）",
        "Mean resolution (hours), 365 days",
        "近365天工单从创建到解决的平均小时数（已解决的工单）。",
        "Mean hours to resolution of tickets opened in the 365 days before the date.",
    ),
    # --- satisfaction -----------------------------------------------------------------
    Feature(
        "latest_nps",
        _Q,
        Unit.SCORE,
        "最近NPS评分",
        "Latest NPS score",
        "最近一次NPS调查的评分（0-10）。",
        "Score of the latest NPS answer (0-10).",
    ),
    Feature(
        "nps_change",
        _Q,
        Unit.SCORE,
        "NPS评分变化",
        "NPS score change",
        "最近一次NPS评分减去上一次评分。",
        "Latest NPS score minus the one before.",
    ),
    Feature(
        "latest_csat",
        _Q,
        Unit.SCORE,
        "最近满意度评分",
        "Latest CSAT score",
        "最近一次满意度调查的评分（1-5）。",
        "Score of the latest CSAT answer (1-5).",
    ),
    Feature(
        "csat_change",
        _Q,
        Unit.SCORE,
        "满意度评分变化",
        "CSAT score change",
        "最近一次满意度评分减去上一次评分。",
        "Latest CSAT score minus the one before.",
    ),
    # --- relationship -----------------------------------------------------------------
    Feature(
        "key_contact_changed_90d",
        _R,
        Unit.FLAG,
        "近90天关键联系人变更",
        "Key contact changed, 90 days",
        "近90天内有关键联系人离任为1，否则为0。",
        "1 if a key contact left in the 90 days before the date, else 0.",
    ),
    Feature(
        "owner_changed_90d",
        _R,
        Unit.FLAG,
        "近90天跟进人变更",
        "Rep changed, 90 days",
        "近90天最近一次跟进的销售与90天前最后一次跟进的销售不同为1。",
        "1 if the rep of the latest follow-up differs from the rep of the last follow-up"
        " before the 90 days (the customer table keeps no owner history).",
    ),
    Feature(
        "competitor_mentions_90d",
        _R,
        Unit.COUNT,
        "近90天提及竞品次数",
        "Competitor mentions, 90 days",
        "近90天互动记录、工单标题和调查留言中提到竞争对手（按关键词）的条数。",
        "Interactions, tickets and survey comments in the 90 days before the date whose text"
        " mentions a competitor (by keyword).",
    ),
    # --- contract ---------------------------------------------------------------------
    Feature(
        "has_contract",
        _C,
        Unit.FLAG,
        "合同有效",
        "Contract in force",
        "当日有生效中的合同为1，否则为0。",
        "1 if a contract term is in force on the date.",
    ),
    Feature(
        "days_to_contract_end",
        _C,
        Unit.DAYS,
        "距合同到期天数",
        "Days to contract end",
        "生效中合同最早到期日距当日的天数。",
        "Days until the earliest end of a term in force.",
    ),
    Feature(
        "renewals",
        _C,
        Unit.COUNT,
        "已续约次数",
        "Renewals so far",
        "当日之前开始的续约合同数。",
        "Renewal terms started before the date.",
    ),
    Feature(
        "current_mrr",
        _C,
        Unit.MONEY,
        "当前月度合同额",
        "Current MRR",
        "生效中合同的月度经常性收入合计。",
        "Monthly recurring revenue of the terms in force.",
    ),
    # --- tenure -----------------------------------------------------------------------
    Feature(
        "tenure_days",
        FeatureGroup.TENURE,
        Unit.DAYS,
        "客户时长（天）",
        "Tenure (days)",
        "自成为客户起的天数。",
        "Days since the customer was first seen.",
    ),
)

FEATURE_CODES: tuple[str, ...] = tuple(feature.code for feature in FEATURES)
_BY_CODE = {feature.code: feature for feature in FEATURES}


def feature(code: str) -> Feature:
    """The catalogue entry of ``code``; KeyError names the unknown code."""
    return _BY_CODE[code]


def catalogue_table() -> str:
    """The catalogue as the Markdown table of docs/features.md (a test keeps them equal)."""
    lines = ["| code | 中文 | English | unit | meaning |", "|---|---|---|---|---|"]
    for group in FeatureGroup:
        for entry in FEATURES:
            if entry.group is group:
                lines.append(
                    f"| `{entry.code}` | {entry.zh} | {entry.en} | {entry.unit.value}"
                    f" | {entry.meaning_en} {entry.meaning_zh} |"
                )
    return "\n".join(lines)
