"""The kinds of file churnradar imports, and the column names it recognises for each field.

Header lists hold what Chinese and English spreadsheets commonly call the column: the CRM
customer table (客户管理表), ERP order exports, service complaint logs, survey exports. A
column the lists miss can be named in a mapping file (see docs/import.md).
"""

from __future__ import annotations

from churnradar.domain import ImportKind
from churnradar.ingest import choices
from churnradar.ingest.fields import Field, FieldType, Kind, Target

T, DT, MONEY, INT, BOOL, CHOICE, REASON = (
    FieldType.TEXT,
    FieldType.DATETIME,
    FieldType.MONEY,
    FieldType.INTEGER,
    FieldType.BOOLEAN,
    FieldType.CHOICE,
    FieldType.REASON,
)

SATISFACTION_WORDS = {
    "非常满意": 5,
    "很满意": 5,
    "满意": 4,
    "一般": 3,
    "不满意": 2,
    "很不满意": 1,
    "非常不满意": 1,
    "very satisfied": 5,
    "satisfied": 4,
    "neutral": 3,
    "dissatisfied": 2,
    "very dissatisfied": 1,
}


def _external_id(*headers: str, required: bool = False) -> Field:
    return Field("external_id", T, headers, column="external_id", required=required)


def _customer_refs() -> tuple[Field, ...]:
    return (
        Field(
            "customer_key",
            T,
            (
                "客户编号",
                "客户编码",
                "客户代码",
                "客户号",
                "客户ID",
                "客户id",
                "customer_id",
                "customer id",
                "customer no",
                "customer number",
                "customer code",
                "account id",
                "account number",
            ),
            reference=Target.CUSTOMER_KEY,
        ),
        Field(
            "customer_name",
            T,
            (
                "客户名称",
                "客户名",
                "客户",
                "客户全称",
                "公司名称",
                "企业名称",
                "单位名称",
                "customer",
                "customer name",
                "company",
                "account",
                "account name",
            ),
            reference=Target.CUSTOMER_NAME,
        ),
    )


def _user(name: str, column: str, *headers: str) -> Field:
    return Field(name, T, headers, column=column, reference=Target.USER)


def _time(name: str, *headers: str, required: bool = False, future: bool = False) -> Field:
    return Field(name, DT, headers, column=name, required=required, future=future)


# fmt: off
CUSTOMERS = Kind(
    name=ImportKind.CUSTOMERS,
    table="customers",
    fields=(
        _external_id(
            "客户编号", "客户编码", "客户代码", "客户号", "客户ID", "客户id", "编号",
            "customer_id", "customer id", "customer no", "customer number", "customer code",
            "account id", "external_id", "id",
        ),
        Field(
            "name",
            T,
            (
                "客户名称", "客户名", "客户", "客户全称", "公司名称", "企业名称", "单位名称",
                "名称", "姓名", "customer", "customer name", "name", "company", "company name",
                "account", "account name",
            ),
            column="name",
            required=True,
        ),
        Field(
            "kind",
            CHOICE,
            ("客户类型", "客户性质", "类型", "kind", "customer type", "type"),
            column="kind",
            choices=choices.CUSTOMER_KIND,
        ),
        Field(
            "business_model",
            CHOICE,
            ("业务模式", "合作模式", "合作方式", "签约类型", "business model", "business_model"),
            column="business_model",
            choices=choices.BUSINESS_MODEL,
        ),
        Field(
            "segment",
            T,
            (
                "客户分群", "客群", "客户分类", "细分市场", "细分", "客户群", "segment",
                "customer segment",
            ),
            column="segment",
        ),
        Field(
            "industry", T, ("行业", "所属行业", "行业类别", "industry", "sector"), column="industry"
        ),
        Field(
            "region",
            T,
            ("区域", "大区", "地区", "片区", "销售区域", "所属区域", "region", "area", "territory"),
            column="region",
        ),
        Field("city", T, ("城市", "所在城市", "所在地", "city"), column="city"),
        Field(
            "channel",
            T,
            (
                "渠道", "来源渠道", "获客渠道", "客户来源", "来源", "销售渠道", "channel",
                "source", "lead source",
            ),
            column="channel",
        ),
        _user(
            "owner", "owner_id", "负责人", "客户经理", "销售负责人", "销售", "业务员", "归属销售",
            "所属销售", "销售代表", "客户负责人", "owner", "sales rep", "rep", "account manager",
            "account owner",
        ),
        Field("tier", T, ("客户等级", "客户级别", "等级", "级别", "tier", "grade"), column="tier"),
        _time(
            "first_seen", "首次合作时间", "首次合作日期", "合作开始日期", "建档日期", "建档时间",
            "创建时间", "创建日期", "开户日期", "注册时间", "注册日期", "first seen", "first_seen",
            "created", "created at", "customer since", "since",
        ),
        Field(
            "status",
            CHOICE,
            ("客户状态", "状态", "合作状态", "status"),
            column="status",
            choices=choices.CUSTOMER_STATUS,
        ),
        _time("churned_at", "流失日期", "流失时间", "churned at", "churned_at", "churn date"),
        Field(
            "churn_type",
            CHOICE,
            ("流失类型", "churn type", "churn_type"),
            column="churn_type",
            choices=choices.CHURN_TYPE,
        ),
        Field(
            "churn_reason",
            REASON,
            ("流失原因", "churn reason", "churn_reason"),
            column="churn_reason",
            choices=choices.REASON,
        ),
        # the customer table's key contact and latest follow-up become a contact and a
        # follow-up record (see docs/import.md)
        Field(
            "key_contact",
            T,
            (
                "关键联系人", "联系人", "决策人", "主要联系人", "对接人", "key contact", "contact",
                "contact name",
            ), fills=("contacts", "name"),
        ),
        Field(
            "key_contact_phone",
            T,
            (
                "联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "phone", "mobile",
                "telephone",
            ), fills=("contacts", "phone"),
        ),
        Field("key_contact_title", T, ("职务", "职位", "联系人职务", "title", "job title"),
              fills=("contacts", "title")),
        Field("key_contact_email", T, ("邮箱", "电子邮箱", "联系人邮箱", "email", "e-mail"),
              fills=("contacts", "email")),
        Field(
            "last_follow_up",
            DT,
            (
                "最近跟进日期", "最近跟进时间", "最后跟进日期", "最后跟进时间", "上次跟进日期",
                "上次跟进时间", "最近联系日期", "last follow-up", "last follow up", "last contact",
                "last contacted",
            ),
        ),
        Field(
            "last_follow_up_channel",
            CHOICE,
            ("跟进方式", "最近跟进方式", "联系方式类型", "follow-up channel"),
            choices=choices.INTERACTION_CHANNEL,
        ),
    ),
    natural_key=("name",),
)

CONTACTS = Kind(
    name=ImportKind.CONTACTS,
    table="contacts",
    fields=(
        _external_id("联系人编号", "联系人ID", "contact id", "contact_id", "external_id", "id"),
        *_customer_refs(),
        Field(
            "name",
            T,
            ("联系人", "联系人姓名", "姓名", "名字", "contact", "contact name", "name"),
            column="name",
            required=True,
        ),
        Field(
            "title", T, ("职务", "职位", "岗位", "title", "job title", "position"), column="title"
        ),
        Field(
            "phone",
            T,
            ("电话", "手机", "手机号", "手机号码", "联系电话", "phone", "mobile", "telephone"),
            column="phone",
        ),
        Field("email", T, ("邮箱", "电子邮箱", "email", "e-mail"), column="email"),
        Field(
            "is_key",
            BOOL,
            (
                "关键联系人", "是否关键联系人", "是否关键人", "决策人", "key contact", "is key",
                "is_key", "decision maker",
            ),
            column="is_key",
        ),
        _time(
            "active_from", "入职日期", "开始日期", "起始日期", "任职开始", "active from",
            "active_from", "start date",
        ),
        _time(
            "active_to", "离职日期", "离职时间", "结束日期", "任职结束", "active to", "active_to",
            "left", "end date",
            future=True,
        ),
    ),
    natural_key=("customer", "name"),
    one_of=(("customer_key", "customer_name"),),
)

ORDERS = Kind(
    name=ImportKind.ORDERS,
    table="orders",
    fields=(
        _external_id(
            "订单号", "订单编号", "单号", "订单ID", "订单id", "销售单号", "order id", "order_id",
            "order no", "order number", "order", "external_id", "id",
            required=True,
        ),
        *_customer_refs(),
        _time(
            "ordered_at", "下单时间", "下单日期", "订单日期", "订单时间", "成交日期", "成交时间",
            "购买日期", "购买时间", "销售日期", "日期", "order date", "ordered at", "ordered_at",
            "date", "purchase date",
            required=True,
        ),
        Field(
            "amount",
            MONEY,
            (
                "订单金额", "金额", "成交金额", "实付金额", "实收金额", "销售额", "含税金额",
                "订单总额", "合计金额", "amount", "total", "order amount", "order total",
                "revenue", "value",
            ),
            column="amount",
            required=True,
            minimum=0,
        ),
        Field("currency", T, ("币种", "货币", "currency"), column="currency"),
        Field(
            "product_line",
            T,
            (
                "产品线", "产品", "产品类别", "品类", "产品名称", "商品", "product line",
                "product_line", "product", "category",
            ),
            column="product_line",
        ),
        Field(
            "quantity",
            INT,
            ("数量", "件数", "购买数量", "quantity", "qty"),
            column="quantity",
            minimum=0,
        ),
        Field(
            "status",
            CHOICE,
            ("订单状态", "状态", "status", "order status"),
            column="status",
            choices=choices.ORDER_STATUS,
        ),
    ),
    one_of=(("customer_key", "customer_name"),),
)

SUBSCRIPTIONS = Kind(
    name=ImportKind.SUBSCRIPTIONS,
    table="subscriptions",
    fields=(
        _external_id(
            "合同编号", "合同号", "合同ID", "订阅编号", "协议编号", "contract id", "contract_id",
            "contract no", "contract number", "subscription id", "external_id", "id",
            required=True,
        ),
        *_customer_refs(),
        Field(
            "plan",
            T,
            ("套餐", "版本", "方案", "合同类型", "服务内容", "plan", "edition"),
            column="plan",
        ),
        Field(
            "product_line",
            T,
            ("产品线", "产品", "产品类别", "业务线", "product line", "product_line", "product"),
            column="product_line",
        ),
        Field(
            "mrr",
            MONEY,
            ("月费", "月度费用", "月收入", "每月费用", "mrr", "monthly fee", "monthly revenue"),
            column="mrr",
            minimum=0,
        ),
        Field(
            "contract_value",
            MONEY,
            (
                "合同金额", "合同额", "合同总额", "合同总金额", "contract value",
                "total contract value", "tcv",
            ),
            minimum=0,
        ),
        Field(
            "annual_value",
            MONEY,
            ("年费", "年度费用", "年合同额", "arr", "annual fee", "annual value", "acv"),
            minimum=0,
        ),
        Field("currency", T, ("币种", "货币", "currency"), column="currency"),
        _time(
            "started_at", "开始日期", "生效日期", "合同开始日期", "起始日期", "签约日期",
            "服务开始日期", "start date", "started at", "started_at", "start",
            required=True,
            future=True,
        ),
        _time(
            "ends_at", "结束日期", "到期日期", "到期日", "合同到期日", "截止日期", "续约日期",
            "服务结束日期", "end date", "ends at", "ends_at", "end", "expiry date", "renewal date",
            future=True,
        ),
        Field(
            "status",
            CHOICE,
            ("合同状态", "状态", "status"),
            column="status",
            choices=choices.SUBSCRIPTION_STATUS,
        ),
        Field(
            "renewed_from",
            T,
            (
                "续约自", "原合同编号", "原合同号", "上期合同", "上期合同编号", "续约原合同",
                "renewed from", "renewed_from", "previous contract",
            ),
            reference=Target.SUBSCRIPTION,
        ),
        _time(
            "cancelled_at", "解约日期", "取消日期", "退订日期", "终止日期", "cancelled at",
            "cancelled_at", "cancel date",
        ),
        Field(
            "cancel_reason",
            REASON,
            ("解约原因", "取消原因", "退订原因", "终止原因", "cancel reason", "cancel_reason"),
            column="cancel_reason",
            choices=choices.REASON,
        ),
    ),
    one_of=(("customer_key", "customer_name"), ("mrr", "contract_value", "annual_value")),
)

INTERACTIONS = Kind(
    name=ImportKind.INTERACTIONS,
    table="interactions",
    fields=(
        _external_id(
            "记录编号", "跟进编号", "跟进记录编号", "记录ID", "record id", "interaction id",
            "external_id", "id",
        ),
        *_customer_refs(),
        _time(
            "occurred_at", "跟进时间", "跟进日期", "联系时间", "联系日期", "拜访时间", "拜访日期",
            "沟通时间", "时间", "日期", "occurred at", "occurred_at", "date", "time",
            "contacted at",
            required=True,
        ),
        Field(
            "channel",
            CHOICE,
            (
                "跟进方式", "联系方式", "沟通方式", "方式", "渠道", "类型", "channel", "type",
                "method",
            ),
            column="channel",
            required=True,
            choices=choices.INTERACTION_CHANNEL,
        ),
        Field(
            "direction",
            CHOICE,
            ("方向", "呼叫方向", "发起方", "direction"),
            column="direction",
            choices=choices.DIRECTION,
        ),
        _user(
            "user", "user_id", "跟进人", "执行人", "记录人", "销售", "负责人", "业务员", "user",
            "rep", "by", "owner", "sales rep",
        ),
        Field(
            "summary",
            T,
            (
                "跟进内容", "沟通内容", "内容", "跟进记录", "摘要", "备注", "summary", "notes",
                "content", "note",
            ),
            column="summary",
        ),
        Field("result", T, ("跟进结果", "结果", "result", "outcome"), column="result"),
        Field(
            "next_step",
            T,
            ("下一步", "下一步计划", "下次跟进计划", "后续计划", "next step", "next steps"),
            column="next_step",
        ),
    ),
    natural_key=("customer", "occurred_at", "channel", "summary"),
    one_of=(("customer_key", "customer_name"),),
)

TICKETS = Kind(
    name=ImportKind.TICKETS,
    table="tickets",
    fields=(
        _external_id(
            "工单号", "工单编号", "投诉编号", "投诉单号", "编号", "ticket id", "ticket_id",
            "ticket no", "ticket number", "case id", "external_id", "id",
        ),
        *_customer_refs(),
        _time(
            "opened_at", "投诉时间", "投诉日期", "创建时间", "创建日期", "提交时间", "受理时间",
            "开单时间", "登记时间", "日期", "opened at", "opened_at", "created", "created at",
            "date",
            required=True,
        ),
        Field(
            "category",
            T,
            (
                "问题类型", "投诉类型", "类别", "分类", "问题分类", "类型", "category", "type",
                "issue type",
            ),
            column="category",
        ),
        Field(
            "severity",
            CHOICE,
            ("严重程度", "紧急程度", "优先级", "级别", "severity", "priority"),
            column="severity",
            choices=choices.TICKET_SEVERITY,
        ),
        Field(
            "is_complaint",
            BOOL,
            ("是否投诉", "投诉", "is complaint", "complaint"),
            column="is_complaint",
        ),
        Field(
            "subject",
            T,
            (
                "投诉内容", "问题描述", "标题", "主题", "内容", "描述", "subject", "description",
                "title",
            ),
            column="subject",
        ),
        _time(
            "first_response_at", "首次响应时间", "响应时间", "首次回复时间", "first response",
            "first response at", "first_response_at", "responded at",
        ),
        _time(
            "resolved_at", "解决时间", "处理完成时间", "关闭时间", "结案时间", "完成时间",
            "resolved at", "resolved_at", "closed at", "closed",
        ),
        Field(
            "satisfaction",
            INT,
            ("满意度", "客户满意度", "满意度评价", "评价", "satisfaction", "csat"),
            column="satisfaction",
            minimum=1,
            maximum=5,
            labels=SATISFACTION_WORDS,
        ),
    ),
    natural_key=("customer", "opened_at", "category", "subject"),
    defaults={"category": "other", "severity": "medium", "is_complaint": False},
    one_of=(("customer_key", "customer_name"),),
)

# a complaint log is a ticket file whose rows are complaints unless a column says otherwise
COMPLAINTS = Kind(
    name="complaints",
    table="tickets",
    fields=TICKETS.fields,
    natural_key=TICKETS.natural_key,
    defaults={**TICKETS.defaults, "category": "complaint", "is_complaint": True},
    one_of=TICKETS.one_of,
)

SURVEYS = Kind(
    name=ImportKind.SURVEYS,
    table="surveys",
    fields=(
        _external_id(
            "问卷编号", "答卷编号", "调查编号", "survey id", "response id", "external_id", "id"
        ),
        *_customer_refs(),
        _time(
            "answered_at", "调查时间", "调查日期", "回答时间", "提交时间", "答卷时间", "填写时间",
            "日期", "answered at", "answered_at", "submitted at", "date",
            required=True,
        ),
        Field(
            "kind",
            CHOICE,
            ("调查类型", "问卷类型", "类型", "kind", "survey type", "type"),
            column="kind",
            choices=choices.SURVEY_KIND,
        ),
        Field("score", INT, ("分数", "得分", "评分", "score"), labels=SATISFACTION_WORDS),
        Field(
            "nps",
            INT,
            (
                "NPS", "NPS得分", "NPS评分", "净推荐值", "推荐意愿", "推荐度", "nps score",
                "likelihood to recommend",
            ),
            minimum=0,
            maximum=10,
        ),
        Field(
            "csat",
            INT,
            (
                "CSAT", "满意度", "满意度评分", "客户满意度", "满意度得分", "satisfaction",
                "csat score",
            ),
            minimum=1,
            maximum=5,
            labels=SATISFACTION_WORDS,
        ),
        Field(
            "comment",
            T,
            (
                "意见", "评论", "建议", "备注", "意见建议", "comment", "comments", "feedback",
                "verbatim",
            ),
            column="comment",
        ),
    ),
    natural_key=("customer", "answered_at", "kind"),
    one_of=(("customer_key", "customer_name"), ("score", "nps", "csat")),
)

CHURN_EVENTS = Kind(
    name=ImportKind.CHURN_EVENTS,
    table="churn_events",
    fields=(
        _external_id("记录编号", "流失编号", "编号", "record id", "external_id", "id"),
        *_customer_refs(),
        _time(
            "occurred_at", "流失日期", "流失时间", "日期", "churn date", "churned at",
            "occurred at", "occurred_at", "date",
            required=True,
        ),
        Field(
            "type",
            CHOICE,
            ("流失类型", "类型", "churn type", "type"),
            column="type",
            choices=choices.CHURN_TYPE,
        ),
        Field(
            "reason",
            REASON,
            ("流失原因", "原因", "churn reason", "reason"),
            column="reason",
            choices=choices.REASON,
        ),
        Field(
            "note",
            T,
            ("备注", "说明", "详细原因", "原因说明", "note", "notes", "details"),
            column="note",
        ),
    ),
    natural_key=("customer", "occurred_at"),
    defaults={"type": "active", "reason": "unknown", "source": "reported"},
    one_of=(("customer_key", "customer_name"),),
)

# fmt: on

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        CUSTOMERS,
        CONTACTS,
        ORDERS,
        SUBSCRIPTIONS,
        INTERACTIONS,
        TICKETS,
        COMPLAINTS,
        SURVEYS,
        CHURN_EVENTS,
    )
}

# what people may type on the command line for a kind
KIND_ALIASES = {
    "followups": "interactions",
    "follow-ups": "interactions",
    "churn": "churn_events",
    "churn-events": "churn_events",
}


def header_tables() -> str:
    """The recognised columns of every kind as Markdown, for docs/import.md (a test keeps
    the document equal to this)."""
    parts = []
    for kind in KINDS.values():
        parts.append(f"### {kind.name}\n\n| field | required | recognised headers |\n|---|---|---|")
        for field in kind.fields:
            groups = [group for group in kind.one_of if field.name in group]
            required = (
                "yes" if field.required else ("one of " + "/".join(groups[0]) if groups else "")
            )
            parts.append(f"| `{field.name}` | {required} | {', '.join(field.headers)} |")
        parts.append("")
    return "\n".join(parts)
