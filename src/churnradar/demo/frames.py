"""The simulated world as table-shaped frames, as of the end of the last simulated day.

Column names are the application tables' (store/bulk.py loads them). Ids are positions in
the simulator's buffers plus one, so they stay the same when the simulation continues.
Nothing after the as-of instant is shown: a ticket answered tomorrow has no response time yet.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from churnradar.demo import vocabulary as v
from churnradar.demo.mechanisms import MECHANISMS
from churnradar.demo.population import CITIES, company_names
from churnradar.demo.simulator import CHURN_TYPES, REASONS, Simulator
from churnradar.demo.state import (
    NPS,
    SUB_ACTIVE,
    SUB_CANCELLED,
    SUB_EXPIRED,
    SUB_RENEWED,
    TONE_COMPETITOR,
    TONE_FEEDBACK,
    TONE_LEAVING,
    TONE_NORMAL,
)
from churnradar.domain import (
    BusinessModel,
    ChurnSource,
    Direction,
    InteractionChannel,
    OrderStatus,
    SubscriptionStatus,
    SurveyKind,
    TicketSeverity,
)

ZONE = "Asia/Shanghai"  # the demo company is Chinese; stored times are UTC
SUBSCRIPTION_STATUS = {
    SUB_ACTIVE: SubscriptionStatus.ACTIVE,
    SUB_RENEWED: SubscriptionStatus.RENEWED,
    SUB_EXPIRED: SubscriptionStatus.EXPIRED,
    SUB_CANCELLED: SubscriptionStatus.CANCELLED,
}


def _labels(values: Any) -> npt.NDArray[np.object_]:
    return np.asarray([str(x) for x in values], dtype=object)


class FrameBuilder:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.last_day = sim.day - 1
        self.origin = np.datetime64(sim.calendar.start, "s")
        self.as_of = self.timestamps(np.asarray([sim.day]), np.asarray([0]))[0]

    def timestamps(self, day: npt.ArrayLike, sec: npt.ArrayLike = 0) -> pd.DatetimeIndex:
        """Local day numbers and seconds to UTC timestamps (vectorised)."""
        seconds = np.asarray(day, dtype=np.int64) * 86400 + np.asarray(sec, dtype=np.int64)
        local = pd.DatetimeIndex(self.origin + seconds.astype("timedelta64[s]"))
        return local.tz_localize(ZONE).tz_convert("UTC").as_unit("us")

    def build(self) -> dict[str, pd.DataFrame]:
        return {
            "teams": self.teams(),
            "users": self.users(),
            "customers": self.customers(),
            "contacts": self.contacts(),
            "subscriptions": self.subscriptions(),
            "orders": self.orders(),
            "interactions": self.interactions(),
            "tickets": self.tickets(),
            "surveys": self.surveys(),
            "churn_events": self.churn_events(),
            "demo_ground_truth": ground_truth(self),
        }

    def teams(self) -> pd.DataFrame:
        org = self.sim.org
        regions = np.asarray(list(v.REGIONS), dtype=object)
        return pd.DataFrame(
            {
                "id": np.arange(1, len(org.team_names) + 1),
                "name": org.team_names,
                "region": regions[org.team_region],
                "manager_id": org.manager_of_team + 1,
            }
        )

    def users(self) -> pd.DataFrame:
        org = self.sim.org
        roles = np.asarray(org.user_role, dtype=object)
        number = pd.Series(roles).groupby(roles).cumcount().to_numpy() + 1
        username = [f"{r}{n:03d}" if r in ("sales", "manager") else f"{r}{n}" for r, n in
                    zip(roles, number, strict=True)]  # fmt: skip
        username[0] = "admin"
        team = org.user_team
        return pd.DataFrame(
            {
                "id": np.arange(1, len(roles) + 1),
                "external_id": [f"E{i:05d}" for i in range(1, len(roles) + 1)],
                "username": username,
                "display_name": org.user_names,
                "email": [f"{name}@demo.example.com" for name in username],
                "role": roles,
                "team_id": _nullable_int(team + 1, team >= 0),
                "locale": "zh-CN",
                "is_active": True,
            }
        )

    def customers(self) -> pd.DataFrame:
        sim, k = self.sim, self.sim.arrived
        p, s = sim.pop, sim.state
        names = company_names(np.random.default_rng(sim.names_seed), p.city, p.industry)[:k]
        ids = np.arange(1, k + 1)
        reported = s.reported[:k]
        churned = s.churned[:k]
        won_back = ~churned & (s.won_back_day[:k] >= 0) & reported
        status = np.where(churned & reported, "churned", np.where(won_back, "won_back", "active"))
        known = churned & reported | won_back
        churned_at = self.timestamps(s.churn_day[:k], 12 * 3600)
        return pd.DataFrame(
            {
                "id": ids,
                "external_id": _codes("C", ids, 7),
                "name": names,
                "kind": "company",
                "business_model": np.where(
                    p.contract[:k], BusinessModel.CONTRACT.value, BusinessModel.NONCONTRACT.value
                ),
                "segment": np.asarray(v.SEGMENTS, dtype=object)[p.segment[:k]],
                "industry": np.asarray(v.INDUSTRIES, dtype=object)[p.industry[:k]],
                "region": np.asarray(list(v.REGIONS), dtype=object)[p.region[:k]],
                "city": np.asarray(CITIES, dtype=object)[p.city[:k]],
                "channel": np.asarray(v.CHANNELS, dtype=object)[p.channel[:k]],
                "owner_id": sim.org.rep_users[p.owner_rep[:k]] + 1,
                "tier": p.tier[:k].astype(object),
                "first_seen": self.timestamps(p.first_seen_day[:k]),
                "status": status,
                "churned_at": pd.Series(churned_at).where(known),
                "churn_type": pd.Series(_labels(CHURN_TYPES)[s.churn_type[:k]]).where(known),
                "churn_reason": pd.Series(_labels(REASONS)[s.churn_reason[:k]]).where(known),
            }
        )

    def contacts(self) -> pd.DataFrame:
        c = self.sim.events["contacts"].columns()
        ids = np.arange(1, len(c["customer"]) + 1)
        surname = np.asarray(v.SURNAMES, dtype=object)[c["surname"]]
        given = np.asarray(v.GIVEN_NAMES, dtype=object)[c["given"]]
        ended = c["to_day"] >= 0
        return pd.DataFrame(
            {
                "id": ids,
                "external_id": _codes("P", ids, 8),
                "customer_id": c["customer"] + 1,
                "name": surname + given,
                "title": np.asarray(v.CONTACT_TITLES, dtype=object)[c["title"]],
                "phone": _codes("13", (ids * 7919) % 10**9, 9),
                "is_key": c["is_key"],
                "active_from": self.timestamps(c["from_day"], 9 * 3600),
                "active_to": pd.Series(self.timestamps(c["to_day"], 18 * 3600)).where(ended),
            }
        )

    def subscriptions(self) -> pd.DataFrame:
        t = self.sim.events["subscriptions"].columns()
        ids = np.arange(1, len(t["customer"]) + 1)
        cancelled = t["cancel_day"] >= 0
        status = pd.Series(t["status"]).map({k: s.value for k, s in SUBSCRIPTION_STATUS.items()})
        reasons = _labels(REASONS)[np.maximum(t["cancel_reason"], 0)]
        return pd.DataFrame(
            {
                "id": ids,
                "external_id": _codes("S", ids, 8),
                "customer_id": t["customer"] + 1,
                "plan": np.asarray(v.PLANS, dtype=object)[t["plan"]],
                "product_line": np.asarray(v.PRODUCT_LINES, dtype=object)[
                    self.sim.pop.line[t["customer"]]
                ],
                "mrr": np.round(t["mrr"], 2),
                "currency": "CNY",
                "started_at": self.timestamps(t["start"]),
                "ends_at": self.timestamps(t["end"]),
                "status": status.to_numpy(),
                "renewed_from": _nullable_int(t["renewed_from"] + 1, t["renewed_from"] >= 0),
                "cancelled_at": pd.Series(self.timestamps(t["cancel_day"], 15 * 3600)).where(
                    cancelled
                ),
                "cancel_reason": pd.Series(reasons).where(cancelled),
            }
        )

    def orders(self) -> pd.DataFrame:
        o = self.sim.events["orders"].columns()
        ids = np.arange(1, len(o["customer"]) + 1)
        return pd.DataFrame(
            {
                "id": ids,
                "external_id": _codes("SO", ids, 9),
                "customer_id": o["customer"] + 1,
                "ordered_at": self.timestamps(o["day"], o["sec"]),
                "amount": o["amount"],
                "currency": "CNY",
                "product_line": np.asarray(v.PRODUCT_LINES, dtype=object)[o["line"]],
                "quantity": o["quantity"],
                "status": _labels(OrderStatus)[o["status"]],
            }
        )

    def interactions(self) -> pd.DataFrame:
        it = self.sim.events["interactions"].columns()
        ids = np.arange(1, len(it["customer"]) + 1)
        tone, text = it["tone"], it["text"]
        summary = np.full(len(ids), None, dtype=object)
        for code, texts in (
            (TONE_NORMAL, v.FOLLOW_UP_NORMAL),
            (TONE_LEAVING, v.FOLLOW_UP_LEAVING),
            (TONE_COMPETITOR, v.FOLLOW_UP_COMPETITOR),
            (TONE_FEEDBACK, v.INBOUND_FEEDBACK),
        ):  # a loop over four kinds of text, not over rows
            mask = tone == code
            summary[mask] = np.asarray(texts, dtype=object)[text[mask] % len(texts)]
        results = np.asarray([*v.FOLLOW_UP_RESULTS, None], dtype=object)
        return pd.DataFrame(
            {
                "id": ids,
                "external_id": _codes("IT", ids, 9),
                "customer_id": it["customer"] + 1,
                "occurred_at": self.timestamps(it["day"], it["sec"]),
                "channel": _labels(InteractionChannel)[it["channel"]],
                "direction": _labels([Direction.INBOUND, Direction.OUTBOUND, Direction.SYSTEM])[
                    it["direction"]
                ],
                "user_id": _nullable_int(it["user"] + 1, it["user"] >= 0),
                "summary": summary,
                "result": results[it["result"]],
            }
        )

    def tickets(self) -> pd.DataFrame:
        t = self.sim.events["tickets"].columns()
        ids = np.arange(1, len(t["customer"]) + 1)
        opened = self.timestamps(t["day"], t["sec"])
        response = _after(opened, t["response_h"], self.as_of)
        resolved = _after(opened, t["resolve_h"], self.as_of)
        subjects = np.asarray(
            [s for c in v.TICKET_CATEGORIES for s in v.TICKET_SUBJECTS[c]], dtype=object
        )
        rated = (t["satisfaction"] > 0) & resolved.notna().to_numpy()
        return pd.DataFrame(
            {
                "id": ids,
                "external_id": _codes("TK", ids, 8),
                "customer_id": t["customer"] + 1,
                "opened_at": opened,
                "category": np.asarray(v.TICKET_CATEGORIES, dtype=object)[t["category"]],
                "severity": _labels(TicketSeverity)[t["severity"]],
                "is_complaint": t["complaint"],
                "subject": subjects[t["category"] * 3 + t["subject"]],
                "first_response_at": response,
                "resolved_at": resolved,
                "satisfaction": _nullable_int(t["satisfaction"], rated),
            }
        )

    def surveys(self) -> pd.DataFrame:
        s = self.sim.events["surveys"].columns()
        known = s["day"] <= self.last_day
        ids = np.arange(1, len(s["customer"]) + 1)[known]
        comments = np.asarray([*v.NPS_COMMENTS_LOW, *v.NPS_COMMENTS_HIGH, None], dtype=object)
        return pd.DataFrame(
            {
                "id": ids,
                "external_id": _codes("SV", ids, 8),
                "customer_id": s["customer"][known] + 1,
                "answered_at": self.timestamps(s["day"][known], s["sec"][known]),
                "kind": np.where(s["kind"][known] == NPS, SurveyKind.NPS.value, SurveyKind.CSAT),
                "score": s["score"][known],
                "comment": comments[s["comment"][known]],
            }
        )

    def churn_events(self) -> pd.DataFrame:
        c = self.sim.events["churn_events"].columns()
        ids = np.arange(1, len(c["customer"]) + 1)
        reason = _labels(REASONS)[c["reason"]]
        notes = pd.Series(reason).map(v.CHURN_NOTES).to_numpy()
        return pd.DataFrame(
            {
                "id": ids,
                "external_id": _codes("CE", ids, 7),
                "customer_id": c["customer"] + 1,
                "occurred_at": self.timestamps(c["day"], c["sec"]),
                "type": _labels(CHURN_TYPES)[c["type"]],
                "reason": reason,
                "source": ChurnSource.REPORTED.value,
                "note": notes,
            }
        )


def ground_truth(builder: FrameBuilder) -> pd.DataFrame:
    """The truth no scoring code may read: true hazards, causes, churn and interventions."""
    sim, k = builder.sim, builder.sim.arrived
    s = sim.state
    h, x = sim.hazard(sim.day)
    alive = ~s.churned[:k]
    hazard_now = np.where(alive, h, 0.0)
    mechanisms = np.full(k, "", dtype=object)
    for column, (name, _) in enumerate(MECHANISMS):  # six mechanisms, not customers
        on = alive & (x[:, column] > 0)
        mechanisms[on] = mechanisms[on] + np.where(mechanisms[on] == "", "", ",") + name
    p_churn = _p_churn_within(sim, hazard_now, 90)
    leaving = s.leaving[:k]
    ever_churned = s.churn_day[:k] >= 0
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, k + 1),
            "as_of": builder.as_of,
            "hazard_base": sim.pop.h0[:k],
            "hazard_now": hazard_now,
            "p_churn_90d": p_churn,
            "mechanisms_now": mechanisms,
            "leaving_since": pd.Series(builder.timestamps(s.leave_start[:k])).where(leaving),
            "leaving_until": pd.Series(builder.timestamps(s.leave_end[:k])).where(leaving),
            "leaving_cause": pd.Series(_labels(REASONS)[s.leave_cause[:k]]).where(leaving),
            "churned": s.churned[:k],
            "churned_at": pd.Series(builder.timestamps(s.churn_day[:k], 12 * 3600)).where(
                ever_churned
            ),
            "churn_type": pd.Series(_labels(CHURN_TYPES)[s.churn_type[:k]]).where(ever_churned),
            "churn_reason": pd.Series(_labels(REASONS)[s.churn_reason[:k]]).where(ever_churned),
            "won_back_at": pd.Series(builder.timestamps(s.won_back_day[:k], 10 * 3600)).where(
                s.won_back_day[:k] >= 0
            ),
            "interventions": s.interventions[:k],
            "saved_by_intervention": s.saved[:k],
        }
    )


def _p_churn_within(sim: Simulator, hazard: npt.NDArray[np.float64], days: int) -> Any:
    """P(churned within ``days`` after as-of) if today's hazard ``h`` stayed as it is.

    A customer already leaving churns on his known date: 1 if it falls inside the window,
    else 0. Otherwise he decides on day j of the window with probability h(1-h)^j and then
    churns as the simulator would make him: a repeat buyer after L ~ U{21..70} days; a
    contract customer at the end of the term in force on day j if it is at most 150 days
    away (non-renewal), else after L ~ U{30..90} days (cancellation).
    """
    s, p, e, k = sim.state, sim.pop, sim.effects, sim.arrived
    first, last = sim.day, sim.day + days - 1  # the window's days
    j = np.arange(days)
    p_churn = np.zeros(k)
    rows = sim.events["subscriptions"].column("end")
    for start in range(0, k, 100_000):  # chunks keep the (customers x days) matrix small
        part = slice(start, min(start + 100_000, k))
        h = hazard[part][:, None]
        decide = h * (1 - h) ** j[None, :]
        contract = p.contract[part][:, None]
        decision_day = first + j[None, :]
        row = s.subscription_row[part]
        end = np.where(row >= 0, rows[np.maximum(row, 0)], 0)[:, None]
        term_end = np.where(decision_day <= end, end, end + p.term_days[part][:, None])
        waits = term_end - decision_day <= e.contract_waits_for_term_end_within
        low_c, high_c = e.leaving_days_contract
        low_n, high_n = e.leaving_days_noncontract
        by_leaving_c = np.clip((last - decision_day - low_c + 1) / (high_c - low_c + 1), 0, 1)
        by_leaving_n = np.clip((last - decision_day - low_n + 1) / (high_n - low_n + 1), 0, 1)
        churns = np.where(contract, np.where(waits, term_end <= last, by_leaving_c), by_leaving_n)
        p_churn[part] = (decide * churns).sum(axis=1)
    leaving = s.leaving[:k]
    within = leaving & (s.leave_end[:k] <= last)
    return np.where(leaving, within.astype(float), np.clip(p_churn, 0, 1))


def _after(start: pd.DatetimeIndex, hours: npt.NDArray[np.float64], as_of: Any) -> pd.Series:
    """``start + hours``, or missing when unknown (NaN) or not yet happened by ``as_of``."""
    when = pd.Series(start) + pd.to_timedelta(np.nan_to_num(hours, nan=0.0), unit="h")
    when = when.dt.floor("s")
    return when.where(~np.isnan(hours) & (when <= as_of))


def _nullable_int(values: npt.NDArray[Any], present: npt.NDArray[np.bool_]) -> pd.Series:
    return pd.Series(values, dtype="Int64").where(present)


def _codes(prefix: str, numbers: npt.NDArray[Any], width: int) -> npt.NDArray[np.object_]:
    text = pd.Series(numbers).astype(str).str.zfill(width)
    codes: npt.NDArray[np.object_] = (prefix + text).to_numpy(dtype=object)
    return codes
