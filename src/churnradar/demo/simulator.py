"""The day-step simulator of the demo company.

Each simulated day, for all customers at once (numpy, no loop over customers): new customers
arrive; every customer's churn hazard is computed from the mechanisms in ``mechanisms.py``;
some decide to leave; leaving customers fade and finally churn; contracts renew or lapse;
orders, follow-ups, logins, tickets, surveys and key-contact changes happen. ``intervene``
applies a retention contact with its documented true effect. The simulator can be saved and
continued later from the day it stopped.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from churnradar.demo import activity
from churnradar.demo.buffers import ColumnBuffer
from churnradar.demo.calendar import Calendar
from churnradar.demo.mechanisms import (
    BACKGROUND_REASON_WEIGHTS,
    BACKGROUND_REASONS,
    DEFAULT_EFFECTS,
    MECHANISMS,
    TrueEffects,
)
from churnradar.demo.population import (
    Organisation,
    Population,
    build_organisation,
    build_population,
)
from churnradar.demo.state import (
    SUB_ACTIVE,
    SUB_CANCELLED,
    SUB_EXPIRED,
    SUB_RENEWED,
    CustomerState,
    new_event_tables,
)
from churnradar.domain import PASSIVE_CHURN_REASONS, ChurnType, ReasonCode

Index = npt.NDArray[np.intp]
REASONS = list(ReasonCode)
CHURN_TYPES = list(ChurnType)
MECHANISM_REASON = np.asarray([REASONS.index(ReasonCode(r)) for _, r in MECHANISMS])
BACKGROUND_REASON = np.asarray([REASONS.index(ReasonCode(r)) for r in BACKGROUND_REASONS])
PASSIVE_REASONS = np.asarray([REASONS.index(r) for r in PASSIVE_CHURN_REASONS])
GOODS_LINES = np.asarray([0, 1, 4])  # 工业设备, 耗材, 培训咨询: what orders are for
UNIT_PRICE = np.asarray([8_000.0, 120.0, 2_000.0, 1_500.0, 3_000.0])


class Simulator:
    """The synthetic company, advanced one day at a time.

    ``horizon_days`` is the planned history: customers arrive, prices rise and service
    crunches happen within it. ``step`` may go past it (nobody new arrives then).
    """

    def __init__(
        self,
        *,
        customers: int,
        seed: int,
        start: date,
        horizon_days: int,
        effects: TrueEffects = DEFAULT_EFFECTS,
    ) -> None:
        population_seed, simulation_seed, self.names_seed = np.random.SeedSequence(seed).spawn(3)
        population_rng = np.random.default_rng(population_seed)
        self.seed = seed
        self.effects = effects
        self.calendar = Calendar(start=start, horizon_days=horizon_days)
        years = horizon_days // 365 + 1
        self.org: Organisation = build_organisation(population_rng, customers, years)
        self.pop: Population = build_population(
            population_rng, self.org, customers, horizon_days, effects
        )
        self.rng = np.random.default_rng(simulation_seed)
        self.state = CustomerState(customers)
        self.events: dict[str, ColumnBuffer] = new_event_tables()
        self.day = 0  # the next day to simulate
        self.arrived = 0  # customers [0, arrived) have arrived

    # -- public -------------------------------------------------------------------------

    @property
    def today(self) -> date:
        """The last simulated day."""
        return self.calendar.start + timedelta(days=self.day - 1)

    def step(self, days: int = 1) -> None:
        for _ in range(days):
            self._simulate_day(self.day)
            self.day += 1

    def intervene(self, customers: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """A retention contact today with each customer (positions, not ids).

        True effect: the hazard is multiplied by ``treatment_hazard_multiplier`` for
        ``treatment_days``, and a customer already leaving is saved with probability
        ``treatment_save_probability``. Returns which customers were saved.
        """
        index = np.unique(np.asarray(customers, dtype=np.intp))
        s, e = self.state, self.effects
        index = index[(index < self.arrived) & ~s.churned[index]]
        s.treated_until[index] = self.day + e.treatment_days
        s.interventions[index] += 1
        saved = s.leaving[index] & (self.rng.random(len(index)) < e.treatment_save_probability)
        rescued = index[saved]
        s.leaving[rescued] = False
        s.leave_end[rescued] = -1
        s.saved[rescued] = True
        result = np.zeros(len(np.asarray(customers)), dtype=bool)
        result[np.isin(np.asarray(customers), rescued)] = True
        return result

    def hazard(self, day: int | None = None) -> tuple[npt.NDArray[np.float64], Any]:
        """True daily hazard of deciding to leave, and the exposure matrix, for arrivals."""
        d = self.day if day is None else day
        k, s, p, e = self.arrived, self.state, self.pop, self.effects
        x = np.zeros((k, len(MECHANISMS)))
        x[:, 0] = self.slow_complaint(d)
        x[:, 1] = np.minimum(1.0, s.complaint_load[:k] / e.complaint_saturation)
        gap = d - s.last_follow_up[:k] - e.follow_up_gap_start
        x[:, 2] = np.clip(gap / (e.follow_up_gap_full - e.follow_up_gap_start), 0, 1)
        x[:, 3] = d - s.key_change_day[:k] < e.key_contact_window
        rise = self.calendar.price_rise_day[p.line[:k]]
        x[:, 4] = p.price_sensitivity[:k] * ((rise <= d) & (d < rise + e.price_rise_window))
        x[:, 5] = d < s.competitor_until[:k]
        onboarding = np.where(
            d - p.first_seen_day[:k] < e.onboarding_days, e.onboarding_multiplier, 1.0
        )
        treated = np.where(d < s.treated_until[:k], e.treatment_hazard_multiplier, 1.0)
        h = p.h0[:k] * onboarding * np.exp(x @ np.asarray(e.beta)) * treated
        return np.minimum(h, 1.0), x

    def slow_complaint(self, d: int) -> npt.NDArray[np.bool_]:
        """Arrived customers whose latest complaint, within the memory window, waited longer
        than ``unanswered_after_days`` for a first response (or is still waiting)."""
        s, e, k = self.state, self.effects, self.arrived
        # known to be slow once the customer has waited that long without an answer
        since = d - s.complaint_day[:k]
        waiting = since >= e.unanswered_after_days
        return s.complaint_slow[:k] & waiting & (since < e.complaint_memory_days)

    # -- one day ------------------------------------------------------------------------

    def _simulate_day(self, d: int) -> None:
        k = int(np.searchsorted(self.pop.arrival_day, d, side="right"))
        if k > self.arrived:
            self._arrive(np.arange(self.arrived, k), d)
            self.arrived = k
        self._decide(d)
        self._churn(d)
        self._renew(d)
        self._win_back(d)
        activity.daily_activity(self, d)
        activity.relationship_events(self, d)
        activity.nps_wave(self, d)
        self._drift(d)

    def alive(self) -> Index:
        """Positions of arrived customers who have not churned."""
        return np.flatnonzero(~self.state.churned[: self.arrived])

    def _arrive(self, new: Index, d: int) -> None:
        p, s, rng = self.pop, self.state, self.rng
        s.satisfaction[new] = p.satisfaction_base[new]
        existing = p.first_seen_day[new] < d
        s.last_follow_up[new] = np.where(existing, d - rng.integers(0, 30, len(new)), d)
        goods = new[~p.contract[new]]
        fresh = goods[p.first_seen_day[goods] == d]
        old = goods[p.first_seen_day[goods] < d]
        s.last_order[old] = d - np.floor(rng.random(len(old)) / p.order_rate[old]).astype(int)
        activity.place_orders(self, fresh, d)
        contracts = new[p.contract[new]]
        known_for = d - p.first_seen_day[contracts]
        offset = np.minimum(
            np.floor(rng.random(len(contracts)) * p.term_days[contracts]).astype(int), known_for
        )
        self._start_terms(contracts, d - offset, p.mrr[contracts], renewed_from=None)
        activity.add_contacts(self, new, p.first_seen_day[new])

    def _decide(self, d: int) -> None:
        s, e, rng = self.state, self.effects, self.rng
        h, x = self.hazard(d)
        candidates = ~s.churned[: self.arrived] & ~s.leaving[: self.arrived]
        decided = np.flatnonzero(candidates & (rng.random(self.arrived) < h))
        if len(decided) == 0:
            return
        cause = self._attribute_cause(x[decided])
        s.leaving[decided] = True
        s.leave_start[decided] = d
        s.leave_cause[decided] = cause
        low, high = e.leaving_days_noncontract
        s.leave_end[decided] = d + rng.integers(low, high + 1, len(decided))
        s.leave_cancels[decided] = False
        contracts = decided[self.pop.contract[decided]]
        term_end = self.events["subscriptions"].column("end")[s.subscription_row[contracts]]
        waits = term_end - d <= e.contract_waits_for_term_end_within
        low, high = e.leaving_days_contract
        early = d + rng.integers(low, high + 1, len(contracts))
        s.leave_end[contracts] = np.where(waits, term_end, early)
        s.leave_cancels[contracts] = ~waits

    def _attribute_cause(self, x: npt.NDArray[np.float64]) -> npt.NDArray[np.int8]:
        """Pick each decision's cause in proportion to its share of the hazard.

        With h = h0 * exp(L), L = sum_k beta_k x_k, the background share is exp(-L) and
        mechanism k gets (beta_k x_k / L) * (1 - exp(-L)).
        """
        contributions = x * np.asarray(self.effects.beta)
        total = contributions.sum(axis=1)
        background = np.exp(-total)
        with np.errstate(invalid="ignore", divide="ignore"):
            mechanism = np.where(
                total[:, None] > 0, contributions / total[:, None] * (1 - background)[:, None], 0
            )
        shares = np.column_stack([background, mechanism])
        cumulative = np.cumsum(shares, axis=1)
        pick = (cumulative < self.rng.random(len(x))[:, None] * cumulative[:, -1:]).sum(axis=1)
        pick = np.minimum(pick, shares.shape[1] - 1)
        background_reason = BACKGROUND_REASON[
            self.rng.choice(len(BACKGROUND_REASONS), size=len(x), p=BACKGROUND_REASON_WEIGHTS)
        ]
        reason = np.where(pick == 0, background_reason, MECHANISM_REASON[np.maximum(pick - 1, 0)])
        return reason.astype(np.int8)

    def _churn(self, d: int) -> None:
        s, p, e, rng = self.state, self.pop, self.effects, self.rng
        k = self.arrived
        done = np.flatnonzero(s.leaving[:k] & (s.leave_end[:k] <= d))
        if len(done) == 0:
            return
        s.leaving[done] = False
        s.churned[done] = True
        s.churn_day[done] = d
        s.churn_reason[done] = s.leave_cause[done]
        terms = self.events["subscriptions"]
        contracts = done[p.contract[done]]
        rows = s.subscription_row[contracts]
        cancels = s.leave_cancels[contracts]
        terms.column("status")[rows] = np.where(cancels, SUB_CANCELLED, SUB_EXPIRED)
        terms.column("cancel_day")[rows[cancels]] = d
        terms.column("cancel_reason")[rows[cancels]] = s.leave_cause[contracts[cancels]]
        report = np.where(
            p.contract[done], e.report_probability_contract, e.report_probability_noncontract
        )
        reported = rng.random(len(done)) < report
        passive = np.isin(s.leave_cause[done], PASSIVE_REASONS)
        kind = np.where(
            reported,
            np.where(passive, CHURN_TYPES.index(ChurnType.PASSIVE), 0),
            CHURN_TYPES.index(ChurnType.HIDDEN),
        )
        s.churn_type[done] = kind
        s.reported[done] = reported
        told = done[reported]
        self.events["churn_events"].append(
            customer=told,
            day=d,
            sec=self.calendar.office_seconds(rng, len(told)),
            type=s.churn_type[told],
            reason=s.churn_reason[told],
        )

    def _renew(self, d: int) -> None:
        s, p, rng = self.state, self.pop, self.rng
        terms = self.events["subscriptions"]
        contracts = np.flatnonzero(p.contract[: self.arrived] & ~s.churned[: self.arrived])
        rows = s.subscription_row[contracts]
        due = terms.column("end")[rows] <= d
        renewing, old = contracts[due], rows[due]
        if len(renewing) == 0:
            return
        terms.column("status")[old] = SUB_RENEWED
        change = rng.choice([1.0, 1.15, 1.3, 0.8], size=len(renewing), p=[0.7, 0.15, 0.08, 0.07])
        rise_day = self.calendar.price_rise_day[p.line[renewing]]
        rise = (rise_day <= d) & (terms.column("start")[old] < rise_day)  # once, not per renewal
        mrr = (
            terms.column("mrr")[old] * change * np.where(rise, 1 + self.effects.price_rise_size, 1)
        )
        self._start_terms(renewing, np.full(len(renewing), d), np.round(mrr, -1), old)

    def _win_back(self, d: int) -> None:
        s, p = self.state, self.pop
        k = self.arrived
        eligible = s.churned[:k] & (s.won_back_day[:k] < 0) & (d - s.churn_day[:k] >= 60)
        back = np.flatnonzero(eligible & (self.rng.random(k) < self.effects.win_back_daily_rate))
        if len(back) == 0:
            return
        s.churned[back] = False
        s.won_back_day[back] = d
        s.satisfaction[back] = p.satisfaction_base[back]
        s.last_follow_up[back] = d
        s.complaint_load[back] = 0
        contracts = back[p.contract[back]]
        self._start_terms(contracts, np.full(len(contracts), d), p.mrr[contracts], None)
        activity.place_orders(self, back[~p.contract[back]], d)

    def _start_terms(
        self, customers: Index, start: npt.NDArray[Any], mrr: npt.NDArray[Any], renewed_from: Any
    ) -> None:
        if len(customers) == 0:
            return
        plan = np.minimum(2 - self.pop.segment[customers], 2)  # 大客户 take 旗舰版
        rows = self.events["subscriptions"].append(
            customer=customers,
            start=start,
            end=start + self.pop.term_days[customers],
            mrr=mrr,
            plan=plan,
            status=SUB_ACTIVE,
            renewed_from=-1 if renewed_from is None else renewed_from,
            cancel_day=-1,
            cancel_reason=-1,
        )
        self.state.subscription_row[customers] = rows

    def progress(self, customers: Index, d: int) -> npt.NDArray[np.float64]:
        """How far into leaving (0 at the decision, 1 at churn); 0 for customers not leaving."""
        s = self.state
        span = np.maximum(s.leave_end[customers] - s.leave_start[customers], 1)
        progress = np.clip((d - s.leave_start[customers]) / span, 0, 1)
        return np.where(s.leaving[customers], progress, 0.0)

    def _drift(self, d: int) -> None:
        s, p, k = self.state, self.pop, self.arrived
        e = self.effects
        # satisfaction sinks each day a complaint waits for its first answer
        unanswered = (s.complaint_day[:k] <= d) & (d < s.complaint_answer_day[:k])
        rise = self.calendar.price_rise_day[p.line[:k]]
        priced = (rise <= d) & (d < rise + e.price_rise_window)
        sat = s.satisfaction[:k]
        sat += 0.002 * (p.satisfaction_base[:k] - sat)
        sat -= 0.004 * unanswered + 0.001 * p.price_sensitivity[:k] * priced
        sat -= 0.002 * s.leaving[:k]
        np.clip(sat, 0, 1, out=sat)
        s.complaint_load[:k] *= np.exp(-1 / 60)
