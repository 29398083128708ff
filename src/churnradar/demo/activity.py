"""What customers and staff do on a simulated day: orders, follow-ups, logins, tickets,
surveys, key-contact changes and competitor offers. Vectorised over customers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from churnradar.demo import vocabulary as v
from churnradar.demo.state import (
    CSAT,
    INBOUND,
    NPS,
    OPEN,
    OUTBOUND,
    SYSTEM,
    TONE_COMPETITOR,
    TONE_FEEDBACK,
    TONE_LEAVING,
    TONE_NONE,
    TONE_NORMAL,
)
from churnradar.domain import InteractionChannel, OrderStatus

if TYPE_CHECKING:
    from churnradar.demo.simulator import Simulator

Index = npt.NDArray[np.intp]
CHANNELS = list(InteractionChannel)
FOLLOW_UP_CHANNELS = np.asarray(
    [CHANNELS.index(InteractionChannel(c)) for c in v.FOLLOW_UP_CHANNELS]
)
INBOUND_CHANNELS = np.asarray(
    [CHANNELS.index(c) for c in (InteractionChannel.FEEDBACK, InteractionChannel.WECHAT,
                                 InteractionChannel.PHONE)]
)  # fmt: skip
APP_LOGIN = CHANNELS.index(InteractionChannel.APP_LOGIN)
WEB_VISIT = CHANNELS.index(InteractionChannel.WEB_VISIT)
EMAIL_OPEN = CHANNELS.index(InteractionChannel.EMAIL_OPEN)
ORDER_STATUS = list(OrderStatus)
ORDER_OUTCOMES = np.asarray(
    [ORDER_STATUS.index(s) for s in (OrderStatus.COMPLETED, OrderStatus.REFUNDED,
                                     OrderStatus.CANCELLED)]
)  # fmt: skip
GOODS_LINES = np.asarray([0, 1, 4])
UNIT_PRICE = np.asarray([8_000.0, 120.0, 2_000.0, 1_500.0, 3_000.0])
TICKET_RATE = 1 / 150
SLUMP_DAYS = 60


def daily_activity(sim: Simulator, d: int) -> None:
    alive = sim.alive()
    _daily_orders(sim, alive, d)
    _follow_ups(sim, alive, d)
    _inbound(sim, alive, d)
    _system_activity(sim, alive, d)
    _tickets(sim, alive, d)


def place_orders(sim: Simulator, customers: Index, d: int) -> None:
    n = len(customers)
    if n == 0:
        return
    p, s, e, rng = sim.pop, sim.state, sim.effects, sim.rng
    contract = p.contract[customers]
    own_line = ~contract & (rng.random(n) < 0.75)
    line = np.where(own_line, p.line[customers], GOODS_LINES[rng.integers(0, 3, n)])
    rise_factor = np.where(sim.calendar.price_rise_day[line] <= d, 1 + e.price_rise_size, 1.0)
    amount = (
        p.amount[customers]
        * rng.lognormal(0, 0.35, n)
        * rise_factor
        * np.where(s.leaving[customers], e.leaving_amount, 1.0)
        * np.where(contract, 0.3, 1.0)  # add-ons on top of a contract are small
    )
    amount = np.round(np.maximum(amount, 10.0), 2).astype(np.float64)
    status = ORDER_OUTCOMES[rng.choice(3, size=n, p=(0.97, 0.02, 0.01))]
    # units at the list price after any rise, so amount / quantity shows the rise
    quantity = np.maximum(1, np.round(amount / (UNIT_PRICE[line] * rise_factor))).astype(np.int32)
    sim.events["orders"].append(
        customer=customers,
        day=d,
        sec=sim.calendar.office_seconds(rng, n),
        amount=amount,
        line=line,
        quantity=quantity,
        status=status,
    )
    completed = customers[status == ORDER_STATUS.index(OrderStatus.COMPLETED)]
    s.last_order[completed] = d


def _daily_orders(sim: Simulator, alive: Index, d: int) -> None:
    s, e = sim.state, sim.effects
    fading = np.maximum(0.1, e.leaving_order_rate - 0.35 * sim.progress(alive, d))
    rate = sim.pop.order_rate[alive] * sim.calendar.demand(d)
    rate = rate * np.where(s.leaving[alive], fading, 1.0)
    place_orders(sim, alive[sim.rng.random(len(alive)) < rate], d)


def _follow_ups(sim: Simulator, alive: Index, d: int) -> None:
    p, s, org, rng = sim.pop, sim.state, sim.org, sim.rng
    rep = p.owner_rep[alive]
    year = min(d // 365, org.rep_slump_start.shape[1] - 1)
    slump_start = org.rep_slump_start[rep, year]
    slump = (slump_start <= d) & (d < slump_start + SLUMP_DAYS)
    rate = p.follow_up_rate[alive] * sim.calendar.working(d) * np.where(slump, 0.2, 1.0)
    who = alive[rng.random(len(alive)) < rate]
    n = len(who)
    if n == 0:
        return
    draw = rng.random(n)
    competitor = s.competitor_until[who] > d
    tone = np.where(
        competitor & (draw < 0.35),
        TONE_COMPETITOR,
        np.where(s.leaving[who] & (draw < 0.6), TONE_LEAVING, TONE_NORMAL),
    )
    result = np.where(tone == TONE_NORMAL, rng.integers(0, 2, n), rng.integers(2, 4, n))
    sim.events["interactions"].append(
        customer=who,
        day=d,
        sec=sim.calendar.office_seconds(rng, n),
        channel=FOLLOW_UP_CHANNELS[rng.choice(5, size=n, p=v.FOLLOW_UP_CHANNEL_WEIGHTS)],
        direction=OUTBOUND,
        user=org.rep_users[p.owner_rep[who]],
        tone=tone,
        text=rng.integers(0, 6, n),
        result=result,
    )
    s.last_follow_up[who] = d


def _inbound(sim: Simulator, alive: Index, d: int) -> None:
    s, e, rng = sim.state, sim.effects, sim.rng
    rate = (1 / 60) * s.satisfaction[alive] * sim.calendar.working(d)
    rate = rate * np.where(s.leaving[alive], e.leaving_inbound, 1.0)
    who = alive[rng.random(len(alive)) < rate]
    n = len(who)
    sim.events["interactions"].append(
        customer=who,
        day=d,
        sec=sim.calendar.office_seconds(rng, n),
        channel=INBOUND_CHANNELS[rng.choice(3, size=n, p=(0.5, 0.3, 0.2))],
        direction=INBOUND,
        user=sim.org.rep_users[sim.pop.owner_rep[who]],
        tone=TONE_FEEDBACK,
        text=rng.integers(0, len(v.INBOUND_FEEDBACK), n),
        result=-1,
    )


def _system_activity(sim: Simulator, alive: Index, d: int) -> None:
    """Logins for contract customers, web visits and e-mail opens for repeat buyers."""
    p, s, e, rng = sim.pop, sim.state, sim.effects, sim.rng
    fading = np.maximum(e.leaving_activity_floor, 1 - 0.9 * sim.progress(alive, d))
    activity = fading * (0.5 + 0.5 * s.satisfaction[alive]) * sim.calendar.working(d)
    contract = p.contract[alive]
    rate = np.where(contract, p.login_rate[alive], 0.012) * activity
    who = np.flatnonzero(rng.random(len(alive)) < rate)
    customers = alive[who]
    n = len(customers)
    web = np.where(rng.random(n) < 0.6, WEB_VISIT, EMAIL_OPEN)
    sim.events["interactions"].append(
        customer=customers,
        day=d,
        sec=sim.calendar.any_seconds(rng, n),
        channel=np.where(contract[who], APP_LOGIN, web),
        direction=SYSTEM,
        user=-1,
        tone=TONE_NONE,
        text=-1,
        result=-1,
    )


def _tickets(sim: Simulator, alive: Index, d: int) -> None:
    p, s, rng = sim.pop, sim.state, sim.rng
    goods = np.isin(p.line[alive], (0, 1))
    rate = TICKET_RATE * np.where(goods, 1.3, 1.0) * sim.calendar.working(d)
    who = alive[rng.random(len(alive)) < rate]
    n = len(who)
    if n == 0:
        return
    category = rng.choice(len(v.TICKET_CATEGORIES), size=n, p=v.TICKET_CATEGORY_WEIGHTS)
    complaint = rng.random(n) < np.asarray(v.COMPLAINT_SHARE_BY_CATEGORY)[category]
    severity = np.minimum(rng.choice(4, size=n, p=(0.4, 0.35, 0.2, 0.05)) + complaint, 3)
    median = 60.0 if sim.calendar.in_crunch(d) else 6.0
    response = rng.lognormal(np.log(median), 1.1, n)
    response = np.where(response > 24 * 20, np.nan, response)  # never answered
    resolve = response + rng.lognormal(np.log(30), 1.0, n)
    satisfaction = np.select(
        [response < 8, response < 24, response < 72, response < 240], [5, 4, 3, 2], 1
    )
    satisfaction = np.clip(satisfaction + rng.integers(-1, 2, n), 1, 5)
    rated = ~np.isnan(response) & (rng.random(n) < 0.6)
    sec = sim.calendar.office_seconds(rng, n)
    sim.events["tickets"].append(
        customer=who,
        day=d,
        sec=sec,
        category=category,
        severity=severity,
        complaint=complaint,
        response_h=response,
        resolve_h=resolve,
        satisfaction=np.where(rated, satisfaction, -1),
        subject=rng.integers(0, 3, n),
    )
    # A CSAT answer follows a rated ticket a few hours after it was resolved.
    answered_seconds = sec[rated] + (resolve[rated] * 3600).astype(np.int64) + 3 * 3600
    sim.events["surveys"].append(
        customer=who[rated],
        day=d + answered_seconds // 86400,
        sec=answered_seconds % 86400,
        kind=CSAT,
        score=satisfaction[rated],
        comment=-1,
    )
    complained = who[complaint]
    waited = response[complaint]
    answer_day = d + np.floor((sec[complaint] / 3600 + waited) / 24)
    s.complaint_day[complained] = d
    s.complaint_answer_day[complained] = np.where(np.isnan(answer_day), OPEN, answer_day)
    slow_after = 24 * sim.effects.unanswered_after_days
    s.complaint_slow[complained] = np.isnan(waited) | (waited >= slow_after)
    s.complaint_load[complained] += 1
    s.satisfaction[complained] = np.maximum(0, s.satisfaction[complained] - 0.05)


def add_contacts(sim: Simulator, customers: Index, from_day: npt.NDArray[np.int32]) -> None:
    rng = sim.rng
    count = 1 + rng.binomial(2, 0.5, len(customers))
    owner = np.repeat(customers, count)
    first = np.concatenate(([0], np.cumsum(count)[:-1]))
    is_key = np.zeros(len(owner), dtype=bool)
    is_key[first] = True
    rows = _append_contacts(sim, owner, is_key, np.repeat(from_day, count))
    sim.state.key_contact_row[customers] = rows[first]


def _append_contacts(
    sim: Simulator, customers: Index, is_key: npt.NDArray[np.bool_], from_day: npt.NDArray[np.int32]
) -> npt.NDArray[np.int64]:
    rng, n = sim.rng, len(customers)
    return sim.events["contacts"].append(
        customer=customers,
        surname=rng.integers(0, len(v.SURNAMES), n),
        given=rng.integers(0, len(v.GIVEN_NAMES), n),
        title=np.where(is_key, rng.integers(0, 2, n), rng.integers(2, len(v.CONTACT_TITLES), n)),
        is_key=is_key,
        from_day=from_day,
        to_day=-1,
    )


def relationship_events(sim: Simulator, d: int) -> None:
    """Key contacts leave (a successor takes over); competitors make offers."""
    p, s, e, rng = sim.pop, sim.state, sim.effects, sim.rng
    alive = sim.alive()
    leavers = alive[rng.random(len(alive)) < e.key_contact_daily_rate]
    if len(leavers):
        sim.events["contacts"].column("to_day")[s.key_contact_row[leavers]] = d
        rows = _append_contacts(
            sim, leavers, np.ones(len(leavers), bool), np.full(len(leavers), d, np.int32)
        )
        s.key_contact_row[leavers] = rows
        s.key_change_day[leavers] = d
    entered = d >= sim.calendar.competitor_entry_day()
    south = list(v.REGIONS).index(e.competitor_entry_region)
    boost = np.where(entered & (p.region[alive] == south), e.competitor_entry_multiplier, 1.0)
    offered = alive[rng.random(len(alive)) < e.competitor_daily_rate * boost]
    s.competitor_until[offered] = d + e.competitor_window


def nps_wave(sim: Simulator, d: int) -> None:
    """A quarterly NPS survey: a quarter of the customers answer within ten days."""
    if not sim.calendar.is_nps_wave(d):
        return
    s, rng = sim.state, sim.rng
    alive = sim.alive()
    who = alive[rng.random(len(alive)) < 0.25]
    n = len(who)
    noise = rng.normal(0, 1.2, n)
    score = np.clip(np.round(10 * s.satisfaction[who] - 2 * s.leaving[who] + noise), 0, 10)
    draw = rng.random(n)
    low = len(v.NPS_COMMENTS_LOW)
    comment = np.select(
        [(score <= 6) & (draw < 0.5), (score >= 9) & (draw < 0.3)],
        [rng.integers(0, low, n), low + rng.integers(0, len(v.NPS_COMMENTS_HIGH), n)],
        -1,
    )
    sim.events["surveys"].append(
        customer=who,
        day=d + rng.integers(0, 11, n),
        sec=sim.calendar.office_seconds(rng, n),
        kind=NPS,
        score=score.astype(np.int8),
        comment=comment,
    )
