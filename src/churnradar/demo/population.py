"""Who the demo company is: its teams and reps, and every customer's fixed traits.

Everything here is drawn once, vectorised, from the seed; the simulator then moves the
customers through time. Customers are numbered in order of arrival.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from churnradar.demo import vocabulary as v
from churnradar.demo.mechanisms import TrueEffects

Ints = npt.NDArray[np.int32]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

CUSTOMERS_PER_REP = 150
EXISTING_SHARE = 0.35  # customers already with the company when the history starts
SEGMENT_ORDER_INTERVAL_DAYS = (20.0, 35.0, 60.0)  # 大客户, 中型客户, 小微客户
SEGMENT_ORDER_AMOUNT = (50_000.0, 12_000.0, 3_000.0)
SEGMENT_MRR = (20_000.0, 5_000.0, 1_200.0)
SEGMENT_FOLLOW_UP_DAYS = (10.0, 20.0, 40.0)
SEGMENT_LOGIN_RATE = (0.06, 0.04, 0.025)
CONTRACT_SHARE = 0.4
TERM_MONTHS = (12, 24, 6)
TERM_WEIGHTS = (0.8, 0.1, 0.1)


@dataclass(frozen=True)
class Organisation:
    """Teams (one or more per region) and users: per team a manager and reps, plus staff."""

    team_region: Ints  # index into REGIONS per team
    team_names: list[str]
    user_names: list[str]
    user_role: list[str]
    user_team: Ints  # -1 for staff outside teams
    rep_users: Ints  # user index of each rep
    rep_team: Ints
    rep_diligence: Floats
    rep_slump_start: Ints  # per rep and year: first day of a 60-day slump in follow-ups

    @property
    def manager_of_team(self) -> Ints:
        managers = [i for i, role in enumerate(self.user_role) if role == "manager"]
        return np.asarray(managers, dtype=np.int32)


@dataclass(frozen=True)
class Population:
    arrival_day: Ints  # day the customer enters the simulation (0 for existing ones)
    first_seen_day: Ints  # <= arrival_day; negative for customers older than the history
    contract: Bools
    segment: Ints
    region: Ints
    city: Ints  # index into CITIES
    industry: Ints
    channel: Ints
    line: Ints
    owner_rep: Ints  # index into Organisation.rep_users
    order_rate: Floats  # expected orders per day when healthy
    amount: Floats  # typical order amount, CNY
    price_sensitivity: Floats
    h0: Floats  # base daily hazard including frailty
    mrr: Floats
    term_days: Ints
    follow_up_rate: Floats  # outbound follow-ups per day (with the owner's diligence)
    login_rate: Floats
    satisfaction_base: Floats
    tier: npt.NDArray[np.str_]

    @property
    def size(self) -> int:
        return len(self.arrival_day)


CITIES: tuple[str, ...] = tuple(city for cities in v.REGIONS.values() for city in cities)
CITY_REGION = np.asarray(
    [r for r, cities in enumerate(v.REGIONS.values()) for _ in cities], dtype=np.int32
)


def build_organisation(rng: np.random.Generator, customers: int, years: int) -> Organisation:
    reps_total = max(len(v.REGIONS), round(customers / CUSTOMERS_PER_REP))
    region_weights = np.asarray(v.REGION_WEIGHTS)
    reps_per_region = np.maximum(1, np.round(region_weights * reps_total)).astype(int)
    team_region: list[int] = []
    team_names: list[str] = []
    rep_team: list[int] = []
    for region, (name, count) in enumerate(zip(v.REGIONS, reps_per_region, strict=True)):
        teams = max(1, int(np.ceil(count / 8)))
        first_team = len(team_region)
        for t in range(teams):
            team_region.append(region)
            suffix = v.TEAM_SUFFIXES[t % len(v.TEAM_SUFFIXES)]
            team_names.append(f"{name}销售{suffix}" + (f"{t // 9 + 1}" if t >= 9 else ""))
        rep_team.extend(first_team + (np.arange(count) % teams))
    n_teams, n_reps = len(team_region), len(rep_team)

    names = _person_names(rng, n_teams + n_reps + 4)
    user_role = ["admin", "analyst", "service", "service"]
    user_team = [-1, -1, -1, -1]
    user_role += ["manager"] * n_teams
    user_team += list(range(n_teams))
    user_role += ["sales"] * n_reps
    user_team += rep_team
    rep_users = np.arange(4 + n_teams, 4 + n_teams + n_reps, dtype=np.int32)
    # Most reps follow up reliably; a few are stretched thin, which plants follow-up gaps.
    diligence = np.clip(rng.beta(5, 2, n_reps) * 1.3, 0.2, 1.25)
    slump = rng.integers(0, 365 - 60, size=(n_reps, years + 1)) + 365 * np.arange(years + 1)
    return Organisation(
        team_region=np.asarray(team_region, dtype=np.int32),
        team_names=team_names,
        user_names=names,
        user_role=user_role,
        user_team=np.asarray(user_team, dtype=np.int32),
        rep_users=rep_users,
        rep_team=np.asarray(rep_team, dtype=np.int32),
        rep_diligence=diligence,
        rep_slump_start=slump.astype(np.int32),
    )


def build_population(
    rng: np.random.Generator, org: Organisation, customers: int, days: int, effects: TrueEffects
) -> Population:
    n = customers
    arrival, first_seen = _arrivals(rng, n, days)
    contract = rng.random(n) < CONTRACT_SHARE
    segment = rng.choice(3, size=n, p=v.SEGMENT_WEIGHTS).astype(np.int32)
    city = rng.choice(len(CITIES), size=n, p=_city_weights()).astype(np.int32)
    region = CITY_REGION[city]
    industry = rng.integers(0, len(v.INDUSTRIES), size=n, dtype=np.int32)
    channel = rng.choice(len(v.CHANNELS), size=n, p=v.CHANNEL_WEIGHTS).astype(np.int32)
    line = np.where(
        contract,
        rng.choice(len(v.PRODUCT_LINES), size=n, p=v.CONTRACT_LINE_WEIGHTS),
        rng.choice(len(v.PRODUCT_LINES), size=n, p=v.NONCONTRACT_LINE_WEIGHTS),
    ).astype(np.int32)
    owner = _owners(rng, org, region)

    interval = np.asarray(SEGMENT_ORDER_INTERVAL_DAYS)[segment] * rng.lognormal(0, 0.5, n)
    # Contract customers buy add-ons now and then; repeat buyers live on their orders.
    order_rate = np.where(contract, 1 / 120, 1 / np.maximum(interval, 3.0))
    amount = np.asarray(SEGMENT_ORDER_AMOUNT)[segment] * rng.lognormal(0, 0.6, n)
    sensitivity = np.clip(rng.beta(2, 3, n) + 0.15 * (segment == 2), 0, 1)

    annual = np.asarray(effects.base_annual_churn)[segment]
    annual = annual * np.where(contract, 1.0, effects.noncontract_base_multiplier)
    annual = np.clip(annual * np.asarray(effects.channel_multipliers)[channel], 0, 0.9)
    sigma = effects.frailty_sigma
    frailty = rng.lognormal(-(sigma**2) / 2, sigma, n)  # mean 1
    h0 = (1 - (1 - annual) ** (1 / 365)) * frailty

    mrr = np.round(np.asarray(SEGMENT_MRR)[segment] * rng.lognormal(0, 0.4, n), -1)
    months = rng.choice(TERM_MONTHS, size=n, p=TERM_WEIGHTS)
    term_days = np.round(months * 365 / 12).astype(np.int32)
    diligence = org.rep_diligence[owner]
    follow_up_rate = diligence / np.asarray(SEGMENT_FOLLOW_UP_DAYS)[segment]
    login_rate = np.asarray(SEGMENT_LOGIN_RATE)[segment] * rng.lognormal(0, 0.4, n)
    value = np.where(contract, mrr * 12, order_rate * 365 * amount)
    return Population(
        arrival_day=arrival,
        first_seen_day=first_seen,
        contract=contract,
        segment=segment,
        region=region,
        city=city,
        industry=industry,
        channel=channel,
        line=line,
        owner_rep=owner,
        order_rate=order_rate,
        amount=amount,
        price_sensitivity=sensitivity,
        h0=h0,
        mrr=mrr,
        term_days=term_days,
        follow_up_rate=follow_up_rate,
        login_rate=login_rate,
        satisfaction_base=rng.beta(6, 2, n),
        tier=_tiers(value),
    )


def _arrivals(rng: np.random.Generator, n: int, days: int) -> tuple[Ints, Ints]:
    existing = rng.random(n) < EXISTING_SHARE
    # New customers arrive faster as the company grows: density 1 + g*t on [0, 1).
    g = 0.8
    u = rng.random(n)
    t = (np.sqrt(1 + g * (2 + g) * u) - 1) / g
    arrival = np.where(existing, 0, np.floor(t * days)).astype(np.int32)
    age = rng.integers(30, 1500, n)
    first_seen = np.where(existing, -age, arrival).astype(np.int32)
    order = np.lexsort((first_seen, arrival))
    return arrival[order], first_seen[order]


def _city_weights() -> npt.NDArray[np.float64]:
    region_weight = np.asarray(v.REGION_WEIGHTS)[CITY_REGION]
    cities_in_region = np.bincount(CITY_REGION)[CITY_REGION]
    weights: npt.NDArray[np.float64] = region_weight / cities_in_region
    normalised: npt.NDArray[np.float64] = weights / weights.sum()
    return normalised


def _owners(rng: np.random.Generator, org: Organisation, region: Ints) -> Ints:
    """A random rep of a team covering the customer's region."""
    rep_region = org.team_region[org.rep_team]
    order = np.argsort(rep_region, kind="stable")
    counts = np.bincount(rep_region, minlength=len(v.REGIONS))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    pick = starts[region] + np.floor(rng.random(len(region)) * counts[region]).astype(int)
    owners: Ints = order[pick].astype(np.int32)
    return owners


def _tiers(value: Floats) -> npt.NDArray[np.str_]:
    cut = np.quantile(value, [0.9, 0.7, 0.4]) if len(value) else np.zeros(3)
    return np.select([value >= cut[0], value >= cut[1], value >= cut[2]], ["A", "B", "C"], "D")


def _person_names(rng: np.random.Generator, count: int) -> list[str]:
    surnames = rng.choice(v.SURNAMES, size=count)
    given = rng.choice(v.GIVEN_NAMES, size=count)
    return [s + g for s, g in zip(surnames, given, strict=True)]


def person_names(rng: np.random.Generator, count: int) -> npt.NDArray[np.object_]:
    surnames = np.asarray(v.SURNAMES, dtype=object)[rng.integers(0, len(v.SURNAMES), count)]
    given = np.asarray(v.GIVEN_NAMES, dtype=object)[rng.integers(0, len(v.GIVEN_NAMES), count)]
    names: npt.NDArray[np.object_] = surnames + given
    return names


def company_names(rng: np.random.Generator, city: Ints, industry: Ints) -> npt.NDArray[np.object_]:
    n = len(city)
    cities = np.asarray(CITIES, dtype=object)[city]
    word = np.asarray(v.NAME_WORDS, dtype=object)[rng.integers(0, len(v.NAME_WORDS), n)]
    pick = rng.random(n)
    kinds = np.empty(n, dtype=object)
    for i, name in enumerate(v.INDUSTRIES):  # loop over 8 industries, not customers
        words = np.asarray(v.INDUSTRY_WORDS[name], dtype=object)
        mask = industry == i
        kinds[mask] = words[np.floor(pick[mask] * len(words)).astype(int)]
    suffix = np.asarray(v.COMPANY_SUFFIXES, dtype=object)[
        rng.choice(len(v.COMPANY_SUFFIXES), size=n, p=(0.75, 0.1, 0.15))
    ]
    names: npt.NDArray[np.object_] = cities + word + kinds + suffix
    return names
