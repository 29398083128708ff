"""A synthetic company as one pandas frame per table, in the contract of ``load_frames``.

Vectorised, so the same factory makes 50 customers for a test and 100,000 for the load
benchmark. It plants the awkward cases: NULLs in every nullable kind, Chinese text, quotes,
commas and newlines in free text, amounts such as 1234.56, timestamps with microseconds, a
team manager (teams -> users -> teams cycle) and renewed subscription terms (self reference).
``created_at``/``updated_at`` are left out (the loader fills them) except ``orders.created_at``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnradar.domain import ChurnType, InteractionChannel, OrderStatus, TicketSeverity

END = pd.Timestamp("2025-06-30 23:59:59.999999", tz="UTC")
YEAR_US = 365 * 86_400 * 1_000_000
DAY_US = 86_400 * 1_000_000
LAST_QUARTER = END - pd.Timedelta(days=90)

SURNAMES = np.array(["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"])
GIVEN = np.array(["伟", "芳", "娜", "敏", "静", "磊", "洋", "婷", "强", "军"])
CITIES = np.array(["上海", "北京", "深圳", "广州", "杭州", "成都", "武汉", "南京"])
REGIONS = np.array(["华东", "华北", "华南", "华南", "华东", "西南", "华中", "华东"])
WORDS = np.array(["星辰", "远航", "恒信", "博雅", "启明", "鼎盛", "汇通", "云帆"])
SUMMARIES = np.array(
    [
        "电话回访，客户对续约价格有顾虑",
        'Customer said "fine, call next week"',
        "拜访客户，沟通新需求；\n下周提交方案",
        "微信沟通：发票抬头, 税号已更新",
        "",
    ],
    dtype=object,
)


def company_frames(customers: int = 50, *, seed: int = 7) -> dict[str, pd.DataFrame]:
    """A company of ``customers`` customers; the same ``seed`` gives the same frames."""
    rng = np.random.default_rng(seed)
    teams, users = _teams_and_users(rng, max(3, customers // 2_000))
    sales = users.loc[users["role"] == "sales", "id"].to_numpy()
    frames = {"teams": teams, "users": users}
    frames["customers"] = _customers(rng, customers, sales)
    first_seen = frames["customers"]["first_seen"]
    frames["customer_tags"] = _customer_tags(rng, customers)
    frames["contacts"] = _contacts(rng, first_seen)
    frames["orders"] = _orders(rng, first_seen)
    frames["subscriptions"] = _subscriptions(rng, frames["customers"])
    frames["interactions"] = _interactions(rng, first_seen, sales)
    frames["tickets"] = _tickets(rng, first_seen)
    frames["surveys"] = _surveys(rng, first_seen)
    frames["churn_events"] = _churn_events(rng, frames["customers"])
    frames["demo_ground_truth"] = _ground_truth(rng, frames["customers"])
    return frames


def _ids(count: int) -> np.ndarray:
    return np.arange(1, count + 1, dtype=np.int64)


def _codes(prefix: str, ids: np.ndarray, width: int = 8) -> pd.Series:
    return prefix + pd.Series(ids).astype(str).str.zfill(width)


def _times(us: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(us, unit="us", utc=True))


def _between(rng: np.random.Generator, start: pd.Series) -> pd.Series:
    """Random instants (microsecond precision) between ``start`` and END."""
    begin = start.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).view(np.int64)
    end = int(END.value // 1_000)
    span = np.maximum(end - begin, 1)
    return _times(begin + (rng.random(len(begin)) * span).astype(np.int64))


def _names(rng: np.random.Generator, count: int) -> np.ndarray:
    surname = rng.choice(SURNAMES, count)
    given = rng.choice(GIVEN, count)
    return np.char.add(surname, given).astype(object)


def _nulls(rng: np.random.Generator, values: pd.Series, share: float) -> pd.Series:
    return values.mask(rng.random(len(values)) < share)


def _per_customer(rng: np.random.Generator, first_seen: pd.Series, mean: float) -> np.ndarray:
    """Customer positions repeated by a Poisson count each, the first customer at least twice."""
    counts = rng.poisson(mean, len(first_seen))
    counts[0] = max(counts[0], 2)
    return np.repeat(np.arange(len(first_seen)), counts)


def _teams_and_users(
    rng: np.random.Generator, team_count: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    per_team = np.array(["manager", "sales", "sales", "sales", "service", "analyst"])
    roles = np.concatenate([np.tile(per_team, team_count), ["admin"]])
    user_ids = _ids(len(roles))
    team_of = np.concatenate([np.repeat(_ids(team_count), len(per_team)), [0]])
    users = pd.DataFrame(
        {
            "id": user_ids,
            "external_id": _nulls(rng, _codes("E", user_ids, 5), 0.2),
            "username": _codes("u", user_ids, 5),
            "display_name": _names(rng, len(roles)),
            "email": _nulls(rng, _codes("u", user_ids, 5) + "@example.cn", 0.3),
            "phone": _nulls(rng, "138" + pd.Series(user_ids).astype(str).str.zfill(8), 0.5),
            "role": roles,
            "team_id": pd.array(np.where(team_of == 0, None, team_of), dtype="Int64"),
            "locale": np.where(rng.random(len(roles)) < 0.5, "zh-CN", None),
            "is_active": rng.random(len(roles)) < 0.9,
            "last_login_at": _nulls(
                rng, _between(rng, pd.Series(LAST_QUARTER, index=user_ids)), 0.3
            ),
        }
    )
    team_ids = _ids(team_count)
    teams = pd.DataFrame(
        {
            "id": team_ids,
            "name": pd.Series(CITIES[(team_ids - 1) % len(CITIES)])
            + "销售"
            + pd.Series(team_ids).astype(str)
            + "组",
            "region": np.where(team_ids % 4 == 0, None, REGIONS[(team_ids - 1) % len(REGIONS)]),
            "manager_id": pd.array(user_ids[roles == "manager"], dtype="Int64"),
        }
    )
    return teams, users


def _customers(rng: np.random.Generator, count: int, sales: np.ndarray) -> pd.DataFrame:
    ids = _ids(count)
    city = rng.integers(0, len(CITIES), count)
    first_seen = _times(END.value // 1_000 - rng.integers(30 * DAY_US, 3 * YEAR_US, count))
    churned = rng.random(count) < 0.15
    churned[0] = True
    won_back = churned & (rng.random(count) < 0.2)
    churned_at = _between(rng, first_seen).where(churned)
    reasons = ["price", "service", "product", "competition", "relationship", "unknown"]
    frame = pd.DataFrame(
        {
            "id": ids,
            "external_id": _codes("C", ids),
            "name": pd.Series(CITIES[city]) + pd.Series(rng.choice(WORDS, count)) + "科技有限公司",
            "kind": np.where(rng.random(count) < 0.1, "person", "company"),
            "business_model": np.where(rng.random(count) < 0.4, "contract", "noncontract"),
            "segment": _nulls(rng, pd.Series(rng.choice(["enterprise", "smb", "key"], count)), 0.2),
            "industry": _nulls(
                rng, pd.Series(rng.choice(["制造业", "零售", "互联网"], count)), 0.3
            ),
            "region": REGIONS[city],
            "city": CITIES[city],
            "channel": rng.choice(["direct", "partner", "online"], count),
            "owner_id": _nulls(rng, pd.Series(rng.choice(sales, count), dtype="Int64"), 0.05),
            "tier": _nulls(rng, pd.Series(rng.choice(["A", "B", "C"], count)), 0.1),
            "first_seen": first_seen,
            "status": np.where(won_back, "won_back", np.where(churned, "churned", "active")),
            "churned_at": churned_at,
            "churn_type": np.where(churned, rng.choice([t.value for t in ChurnType], count), None),
            "churn_reason": np.where(churned, rng.choice(reasons, count), None),
        }
    )
    frame.loc[0, "name"] = '北京"星辰", 科技\n有限公司'
    frame.loc[0, "business_model"] = "contract"
    return frame


def _customer_tags(rng: np.random.Generator, count: int) -> pd.DataFrame:
    tags = np.array(["高价值", "续约风险", "vip", "新客户", "代理商"])
    customer, tag = np.nonzero(rng.random((count, len(tags))) < 0.3)
    return pd.DataFrame({"customer_id": customer + 1, "tag": tags[tag]})


def _contacts(rng: np.random.Generator, first_seen: pd.Series) -> pd.DataFrame:
    owner = np.repeat(np.arange(len(first_seen)), 2)
    ids = _ids(len(owner))
    active_from = first_seen.iloc[owner].reset_index(drop=True)
    return pd.DataFrame(
        {
            "id": ids,
            "external_id": _nulls(rng, _codes("P", ids), 0.3),
            "customer_id": owner + 1,
            "name": _names(rng, len(owner)),
            "title": _nulls(
                rng, pd.Series(rng.choice(["总经理", "采购经理", "IT 主管"], len(owner))), 0.2
            ),
            "phone": _nulls(rng, "139" + pd.Series(ids).astype(str).str.zfill(8), 0.3),
            "email": _nulls(rng, _codes("p", ids) + "@customer.cn", 0.5),
            "is_key": np.tile([True, False], len(first_seen)),
            "active_from": active_from,
            "active_to": _nulls(rng, _between(rng, active_from), 0.9),
        }
    )


def _orders(rng: np.random.Generator, first_seen: pd.Series) -> pd.DataFrame:
    owner = _per_customer(rng, first_seen, 6.0)
    ids = _ids(len(owner))
    ordered_at = _between(rng, first_seen.iloc[owner].reset_index(drop=True))
    amount = np.round(rng.lognormal(7.0, 1.2, len(owner)), 2)
    amount[:2] = [1234.56, 0.0]
    return pd.DataFrame(
        {
            "id": ids,
            "external_id": _codes("O", ids, 10),
            "customer_id": owner + 1,
            "ordered_at": ordered_at,
            "amount": amount,
            "currency": np.where(rng.random(len(owner)) < 0.95, "CNY", "USD"),
            "product_line": _nulls(
                rng, pd.Series(rng.choice(["耗材", "设备", "服务"], len(owner))), 0.2
            ),
            "quantity": rng.integers(1, 20, len(owner)),
            "status": rng.choice(
                [s.value for s in OrderStatus],
                len(owner),
                p=[0.85, 0.05, 0.05, 0.05],
            ),
            "created_at": ordered_at,
        }
    )


def _subscriptions(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    contract = np.flatnonzero(customers["business_model"].to_numpy() == "contract")
    terms = rng.integers(1, 4, len(contract))
    terms[0] = 3
    owner = np.repeat(contract, terms)
    ids = _ids(len(owner))
    term = np.arange(len(owner)) - np.repeat(np.cumsum(terms) - terms, terms)
    last = term == np.repeat(terms, terms) - 1
    first_seen = customers["first_seen"].iloc[owner].reset_index(drop=True)
    started_at = first_seen + pd.to_timedelta(term * 365, unit="D")
    final = rng.choice(["active", "expired", "cancelled"], len(owner))
    status = np.where(last, final, "renewed")
    cancelled = status == "cancelled"
    cancelled_at = started_at + pd.to_timedelta(
        rng.integers(0, 300 * DAY_US, len(owner)), unit="us"
    )
    mrr = np.round(rng.uniform(500, 20_000, len(owner)), 2)
    mrr[0] = 1234.56
    return pd.DataFrame(
        {
            "id": ids,
            "external_id": _codes("S", ids),
            "customer_id": owner + 1,
            "plan": rng.choice(["基础版", "专业版", "旗舰版"], len(owner)),
            "mrr": mrr,
            "started_at": started_at,
            "ends_at": (started_at + pd.Timedelta(days=365)).mask(
                last & (rng.random(len(owner)) < 0.2)
            ),
            "status": status,
            "renewed_from": pd.array(np.where(term > 0, ids - 1, None), dtype="Int64"),
            "cancelled_at": cancelled_at.where(cancelled),
            "cancel_reason": np.where(
                cancelled, rng.choice(["price", "service"], len(owner)), None
            ),
        }
    )


def _interactions(
    rng: np.random.Generator, first_seen: pd.Series, sales: np.ndarray
) -> pd.DataFrame:
    owner = _per_customer(rng, first_seen, 12.0)
    ids = _ids(len(owner))
    channel = rng.choice([c.value for c in InteractionChannel], len(owner))
    system = np.isin(channel, ["app_login", "web_visit", "email_open"])
    return pd.DataFrame(
        {
            "id": ids,
            "external_id": _nulls(rng, _codes("I", ids, 10), 0.5),
            "customer_id": owner + 1,
            "occurred_at": _between(rng, first_seen.iloc[owner].reset_index(drop=True)),
            "channel": channel,
            "direction": np.where(
                system, "system", rng.choice(["inbound", "outbound"], len(owner))
            ),
            "user_id": pd.array(
                np.where(system, None, rng.choice(sales, len(owner))), dtype="Int64"
            ),
            "task_id": pd.array([None] * len(owner), dtype="Int64"),
            "summary": np.where(system, None, rng.choice(SUMMARIES, len(owner))),
            "result": _nulls(
                rng, pd.Series(rng.choice(["有意向", "无进展", "已解决"], len(owner))), 0.4
            ),
            "next_step": _nulls(
                rng, pd.Series(rng.choice(["下周回访", "发送报价"], len(owner))), 0.6
            ),
        }
    )


def _tickets(rng: np.random.Generator, first_seen: pd.Series) -> pd.DataFrame:
    owner = _per_customer(rng, first_seen, 1.5)
    ids = _ids(len(owner))
    opened_at = _between(rng, first_seen.iloc[owner].reset_index(drop=True))
    after = pd.to_timedelta(rng.integers(0, 48 * 3_600_000_000, len(owner)), unit="us")
    later = pd.to_timedelta(rng.integers(0, 30 * DAY_US, len(owner)), unit="us")
    return pd.DataFrame(
        {
            "id": ids,
            "external_id": _nulls(rng, _codes("T", ids), 0.2),
            "customer_id": owner + 1,
            "opened_at": opened_at,
            "category": rng.choice(["账单", "故障", "功能咨询", "物流"], len(owner)),
            "severity": rng.choice([s.value for s in TicketSeverity], len(owner)),
            "is_complaint": rng.random(len(owner)) < 0.2,
            "subject": _nulls(rng, pd.Series(rng.choice(SUMMARIES, len(owner))), 0.1),
            "first_response_at": _nulls(rng, opened_at + after, 0.2),
            "resolved_at": _nulls(rng, opened_at + later, 0.3),
            "satisfaction": _nulls(
                rng, pd.Series(rng.integers(1, 6, len(owner)), dtype="Int64"), 0.4
            ),
        }
    )


def _surveys(rng: np.random.Generator, first_seen: pd.Series) -> pd.DataFrame:
    owner = _per_customer(rng, first_seen, 1.0)
    ids = _ids(len(owner))
    nps = rng.random(len(owner)) < 0.6
    return pd.DataFrame(
        {
            "id": ids,
            "external_id": _nulls(rng, _codes("V", ids), 0.5),
            "customer_id": owner + 1,
            "answered_at": _between(rng, first_seen.iloc[owner].reset_index(drop=True)),
            "kind": np.where(nps, "nps", "csat"),
            "score": np.where(nps, rng.integers(0, 11, len(owner)), rng.integers(1, 6, len(owner))),
            "comment": _nulls(
                rng,
                pd.Series(rng.choice(["服务很好", "价格偏高，考虑换供应商", "ok"], len(owner))),
                0.5,
            ),
        }
    )


def _churn_events(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    churned = customers[customers["churned_at"].notna()].reset_index(drop=True)
    ids = _ids(len(churned))
    return pd.DataFrame(
        {
            "id": ids,
            "external_id": _codes("X", ids),
            "customer_id": churned["id"].to_numpy(),
            "occurred_at": churned["churned_at"],
            "type": churned["churn_type"].to_numpy(),
            "reason": churned["churn_reason"].to_numpy(),
            "note": _nulls(
                rng, pd.Series(rng.choice(["客户转向竞品", "预算削减"], len(churned))), 0.3
            ),
        }
    )


def _ground_truth(rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    count = len(customers)
    hazard_base = rng.uniform(0.0, 0.01, count)
    hazard_now = hazard_base * rng.uniform(0.5, 3.0, count)
    churned = customers["churned_at"].notna().to_numpy()
    leaving = rng.random(count) < 0.2
    return pd.DataFrame(
        {
            "customer_id": customers["id"].to_numpy(),
            "as_of": pd.Series(END, index=range(count)),
            "hazard_base": hazard_base,
            "hazard_now": hazard_now,
            "p_churn_90d": 1.0 - (1.0 - hazard_now) ** 90,
            "mechanisms_now": rng.choice(
                ["", "price_shock", "key_contact_left;service_failure"], count
            ),
            "leaving_since": _between(rng, customers["first_seen"]).where(leaving),
            "leaving_cause": np.where(leaving, rng.choice(["price", "relationship"], count), None),
            "churned": churned,
            "churned_at": customers["churned_at"],
            "churn_type": customers["churn_type"].to_numpy(),
            "churn_reason": customers["churn_reason"].to_numpy(),
            "won_back_at": _nulls(rng, _between(rng, customers["first_seen"]), 0.95),
            "interventions": rng.integers(0, 3, count),
        }
    )
