"""The metric registry (指标): every figure the measurement layer reports, with its unit and
labels. Reports, the API and the cockpit name metrics by these slugs; the analytics functions
return columns of the same names. Definitions are in docs/metrics.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from churnradar.domain.labels import Labelled


class MetricUnit(StrEnum):
    COUNT = "count"
    RATE = "rate"  # a share in [0, 1], shown as a percentage
    MONEY = "money"
    HOURS = "hours"
    SCORE = "score"


@dataclass(frozen=True)
class Metric(Labelled):
    slug: str
    unit: MetricUnit
    zh: str
    en: str


_C, _R, _M = MetricUnit.COUNT, MetricUnit.RATE, MetricUnit.MONEY

METRICS: tuple[Metric, ...] = (
    Metric("customers_at_start", _C, "期初客户数", "Customers at start"),
    Metric("new_customers", _C, "新增客户数", "New customers"),
    Metric("churned_customers", _C, "流失客户数", "Churned customers"),
    Metric("churned_active", _C, "主动流失客户数", "Churned (active)"),
    Metric("churned_passive", _C, "被动流失客户数", "Churned (passive)"),
    Metric("churned_hidden", _C, "隐性流失客户数", "Churned (hidden)"),
    Metric("won_back_customers", _C, "挽回客户数", "Won-back customers"),
    Metric("customers_at_end", _C, "期末客户数", "Customers at end"),
    Metric("churn_rate", _R, "客户流失率", "Churn rate"),
    Metric("churn_rate_change", _R, "流失率环比变化", "Churn rate change"),
    Metric("previous_buyers", _C, "老客户数", "Previous buyers"),
    Metric("repurchasers", _C, "复购客户数", "Repeat buyers"),
    Metric("repurchase_rate", _R, "复购率", "Repurchase rate"),
    Metric("repurchase_churn_rate", _R, "复购流失率", "Repurchase churn rate"),
    Metric("mrr_at_start", _M, "期初月度经常性收入", "MRR at start"),
    Metric("mrr_churned", _M, "流失月度收入", "Churned MRR"),
    Metric("mrr_contraction", _M, "降级月度收入", "Contraction MRR"),
    Metric("mrr_expansion", _M, "扩展月度收入", "Expansion MRR"),
    Metric("revenue_churn_rate", _R, "收入流失率", "Revenue churn rate"),
    Metric("grr", _R, "毛收入留存率", "Gross revenue retention"),
    Metric("nrr", _R, "净收入留存率", "Net revenue retention"),
    Metric("revenue_lost", _M, "流失客户近12个月收入", "Revenue lost (trailing 12 months)"),
    Metric("clv_lost", _M, "流失客户生命周期价值", "CLV lost"),
    Metric("clv", _M, "客户生命周期价值", "Customer lifetime value"),
    Metric("cohort_size", _C, "同期群客户数", "Cohort size"),
    Metric("retained", _C, "留存客户数", "Retained customers"),
    Metric("retention_rate", _R, "留存率", "Retention rate"),
    Metric("nps", MetricUnit.SCORE, "净推荐值", "NPS"),
    Metric("nps_responses", _C, "NPS答卷数", "NPS responses"),
    Metric("csat", MetricUnit.SCORE, "客户满意度", "CSAT"),
    Metric("csat_satisfied_rate", _R, "满意率", "Share satisfied"),
    Metric("csat_responses", _C, "满意度答卷数", "CSAT responses"),
    Metric("complaints", _C, "投诉数", "Complaints"),
    Metric("complaint_rate", _R, "投诉率", "Complaint rate"),
    Metric(
        "mean_first_response_hours", MetricUnit.HOURS, "平均首次响应时长", "Mean first response"
    ),
    Metric("mean_resolution_hours", MetricUnit.HOURS, "平均解决时长", "Mean resolution time"),
    # customer value (analytics.commerce) and ticket handling (analytics.service)
    Metric("purchases", _C, "购买次数", "Purchases"),
    Metric("revenue", _M, "购买金额", "Purchase revenue"),
    Metric("average_order_value", _M, "客单价", "Average order value"),
    Metric("contract_revenue", _M, "合同收入", "Contract revenue to date"),
    Metric("customers", _C, "客户数", "Customers"),
    Metric("clv_mean", _M, "平均客户生命周期价值", "Mean CLV"),
    Metric("clv_median", _M, "客户生命周期价值中位数", "Median CLV"),
    Metric("clv_total", _M, "客户生命周期价值合计", "Total CLV"),
    Metric("complaining_customers", _C, "投诉客户数", "Customers who complained"),
    Metric("tickets", _C, "工单数", "Tickets"),
    Metric("unanswered_tickets", _C, "未响应工单数", "Unanswered tickets"),
    Metric("unresolved_tickets", _C, "未解决工单数", "Unresolved tickets"),
)

_BY_SLUG = {metric.slug: metric for metric in METRICS}


def metric(slug: str) -> Metric:
    """The registry entry of ``slug``; KeyError names the unknown slug."""
    return _BY_SLUG[slug]
