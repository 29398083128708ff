"""The words people write in files for each coded value, in Chinese and English.

Each table maps a written word to the stored code. The codes themselves (``phone``,
``completed``) are always accepted too. Matching ignores case, width and inner spaces.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

import pandas as pd

from churnradar.domain import (
    BusinessModel,
    ChurnType,
    CustomerKind,
    CustomerStatus,
    Direction,
    InteractionChannel,
    OrderStatus,
    ReasonCode,
    SubscriptionStatus,
    SurveyKind,
    TicketSeverity,
)


def _choices(enum: type[StrEnum], words: Mapping[str, Iterable[str]]) -> dict[str, str]:
    table = {member.value: member.value for member in enum}
    table.update({member.value.replace("_", " "): member.value for member in enum})
    for code, synonyms in words.items():
        table.update({word: enum(code).value for word in synonyms})
    return table


CUSTOMER_KIND = _choices(
    CustomerKind,
    {
        "company": ["企业", "公司", "单位", "机构", "企业客户", "b端", "business"],
        "person": ["个人", "个体", "自然人", "个人客户", "c端", "individual", "consumer"],
    },
)

BUSINESS_MODEL = _choices(
    BusinessModel,
    {
        "contract": ["合同", "签约", "合约", "订阅", "年框", "subscription"],
        "noncontract": [
            "非合同",
            "非签约",
            "复购",
            "零售",
            "散单",
            "non-contract",
            "repeat purchase",
        ],
    },
)

CUSTOMER_STATUS = _choices(
    CustomerStatus,
    {
        "active": ["活跃", "正常", "合作中", "在合作", "有效", "在用"],
        "churned": ["流失", "已流失", "停止合作", "终止合作", "停用", "lost"],
        "won_back": ["挽回", "已挽回", "回流", "赢回", "win back", "winback"],
    },
)

CHURN_TYPE = _choices(
    ChurnType,
    {
        "active": ["主动", "主动流失", "voluntary"],
        "passive": ["被动", "被动流失", "involuntary"],
        "hidden": ["隐性", "隐性流失", "沉默", "silent"],
    },
)

INTERACTION_CHANNEL = _choices(
    InteractionChannel,
    {
        "phone": ["电话", "致电", "去电", "来电", "电联", "call", "telephone"],
        "visit": ["拜访", "上门", "面访", "走访", "上门拜访", "on-site visit"],
        "wechat": ["微信", "企业微信", "企微", "wecom", "weixin"],
        "email": ["邮件", "电子邮件", "e-mail", "mail"],
        "meeting": ["会议", "视频会议", "线上会议", "面谈", "见面", "video call"],
        "feedback": ["反馈", "客户反馈", "意见反馈", "留言", "inbound feedback"],
        "app_login": ["登录", "app登录", "系统登录", "login", "log in"],
        "web_visit": ["访问官网", "网站访问", "浏览", "web", "website visit"],
        "email_open": ["打开邮件", "邮件打开", "open email"],
    },
)

DIRECTION = _choices(
    Direction,
    {
        "inbound": ["呼入", "来电", "客户来电", "客户主动", "入站", "in"],
        "outbound": ["呼出", "去电", "主动联系", "我方主动", "出站", "out"],
        "system": ["系统", "自动", "auto", "automatic"],
    },
)

ORDER_STATUS = _choices(
    OrderStatus,
    {
        "completed": [
            "已完成",
            "完成",
            "已成交",
            "成交",
            "已付款",
            "已支付",
            "已发货",
            "已签收",
            "交易成功",
            "done",
            "paid",
            "shipped",
            "delivered",
        ],
        "pending": ["待付款", "未付款", "待支付", "处理中", "待发货", "进行中", "open", "unpaid"],
        "cancelled": ["已取消", "取消", "作废", "已作废", "关闭", "已关闭", "canceled", "void"],
        "refunded": ["已退款", "退款", "退货", "已退货", "退货退款", "refund", "returned"],
    },
)

SUBSCRIPTION_STATUS = _choices(
    SubscriptionStatus,
    {
        "active": ["生效", "生效中", "有效", "执行中", "进行中", "正常", "在期"],
        "renewed": ["已续约", "续约", "续签", "已续签"],
        "expired": ["到期", "已到期", "过期", "已过期", "未续约", "ended", "lapsed"],
        "cancelled": ["已取消", "取消", "解约", "已解约", "终止", "退订", "canceled", "terminated"],
    },
)

TICKET_SEVERITY = _choices(
    TicketSeverity,
    {
        "low": ["低", "轻微", "一般", "普通", "p4", "minor"],
        "medium": ["中", "中等", "较高", "p3", "normal", "moderate"],
        "high": ["高", "重要", "严重", "p2", "major", "urgent"],
        "critical": ["紧急", "特急", "非常严重", "致命", "p1", "p0", "blocker"],
    },
)

SURVEY_KIND = _choices(
    SurveyKind,
    {
        "nps": ["净推荐值", "推荐意愿", "推荐度", "net promoter score"],
        "csat": ["满意度", "客户满意度", "满意度调查", "satisfaction"],
    },
)

REASON = _choices(
    ReasonCode,
    {
        "price": ["价格", "价格原因", "太贵", "价格高", "预算", "成本", "pricing", "too expensive"],
        "service": ["服务", "服务问题", "服务原因", "售后", "投诉", "响应慢", "customer service"],
        "product": [
            "产品",
            "产品问题",
            "质量",
            "质量问题",
            "功能",
            "不好用",
            "quality",
            "features",
        ],
        "competition": ["竞争", "竞品", "竞争对手", "被挖走", "转向竞品", "competitor"],
        "engagement": ["使用少", "不活跃", "没需求", "需求减少", "不再需要", "no longer needed"],
        "relationship": [
            "关系",
            "联系人离职",
            "关键人离职",
            "对接人变动",
            "人员变动",
            "contact left",
        ],
        "payment": ["付款", "欠款", "资金", "回款", "付款问题", "unpaid", "billing"],
        "external": [
            "外部",
            "倒闭",
            "破产",
            "搬迁",
            "政策",
            "疫情",
            "停业",
            "closed down",
            "bankrupt",
        ],
        "unknown": ["未知", "不详", "其他", "其它", "other", "n/a"],
    },
)

# free-text reasons ("嫌价格太贵，转用竞品") are classified by the first keyword found, in this
# order: the specific causes before the general ones
REASON_KEYWORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("competition", ("竞品", "竞争", "对手", "友商", "competitor")),
    ("price", ("价格", "贵", "涨价", "预算", "成本", "price", "expensive", "budget")),
    ("payment", ("欠款", "付款", "回款", "资金", "账期", "payment", "invoice")),
    ("relationship", ("离职", "换人", "联系人", "关系", "对接人", "contact", "relationship")),
    ("service", ("服务", "投诉", "响应", "售后", "态度", "service", "support", "complain")),
    ("product", ("质量", "产品", "功能", "故障", "bug", "quality", "product", "feature")),
    ("external", ("倒闭", "破产", "搬迁", "政策", "疫情", "停业", "bankrupt", "closed")),
    ("engagement", ("不用", "没需求", "需求", "不活跃", "usage", "need")),
)


def classify_reasons(text: pd.Series) -> pd.Series:
    """The reason code of each free-text reason by keyword, ``unknown`` when none matches;
    NA stays NA. Vectorised: one ``str.contains`` per keyword group."""
    result = pd.Series(pd.NA, index=text.index, dtype=object)
    present = text.notna()
    lowered = text.where(present, "").astype(str).str.casefold()
    result[present] = "unknown"
    decided = ~present
    for code, words in REASON_KEYWORDS:
        pattern = "|".join(words)
        hit = lowered.str.contains(pattern, regex=True) & ~decided
        result[hit] = code
        decided |= hit
    return result
