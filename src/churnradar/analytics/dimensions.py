"""The dimensions every metric can be broken down by, one row per customer.

They are today's attributes of the customer row (the customer table keeps no history of
segment, region or owner), plus the product line, which is derived: the line that brought
the customer the most purchase revenue before ``as_of``, or, for a customer without
purchases, the product line of his latest contract term (its plan when it names none).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import ibis
import ibis.expr.types as ir
from ibis import _

from churnradar.analytics.churn import purchases
from churnradar.analytics.tables import EventTables
from churnradar.analytics.time import instant


class Dimension(StrEnum):
    SEGMENT = "segment"
    REGION = "region"
    INDUSTRY = "industry"
    PRODUCT_LINE = "product_line"
    OWNER = "owner_id"
    CHANNEL = "channel"
    TIER = "tier"
    BUSINESS_MODEL = "business_model"


def customer_dimensions(tables: EventTables, as_of: datetime) -> ir.Table:
    """``customer_id`` and one column per :class:`Dimension` (strings; ``owner_id`` is the
    user id as a string, so every dimension has one type). Missing values stay null."""
    return tables.materialised(("dimensions", as_of), lambda: _dimensions(tables, as_of))


def _dimensions(tables: EventTables, as_of: datetime) -> ir.Table:
    customers = tables.customers
    revenue = (
        purchases(tables, as_of)
        .filter(_.product_line.notnull())
        .group_by(["customer_id", "product_line"])
        .aggregate(revenue=_.amount.sum())
    )
    main_line = revenue.group_by("customer_id").aggregate(
        line=revenue.product_line.argmax(revenue.revenue)
    )
    terms = tables.subscriptions.filter(_.started_at < instant(as_of))
    latest_plan = terms.group_by("customer_id").aggregate(
        plan=ibis.coalesce(terms.product_line, terms.plan).argmax(terms.started_at)
    )
    joined = customers.left_join(main_line, customers.id == main_line.customer_id).left_join(
        latest_plan, customers.id == latest_plan.customer_id
    )
    return joined.select(
        customer_id=joined.id,
        segment=joined.segment,
        region=joined.region,
        industry=joined.industry,
        product_line=ibis.coalesce(joined.line, joined.plan),
        owner_id=joined.owner_id.cast("string"),
        channel=joined.channel,
        tier=joined.tier,
        business_model=joined.business_model,
    )
