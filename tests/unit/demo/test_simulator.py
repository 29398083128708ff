"""The demo company: deterministic, continuable, point-in-time, and true to its documented
mechanisms (docs/demo-data.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churnradar.demo import (
    DEFAULT_EFFECTS,
    MECHANISMS,
    DemoCompany,
    Simulator,
    continue_company,
    generate_company,
    load_simulator,
    save_simulator,
)
from churnradar.errors import NotFound

END = date(2026, 6, 30)
TIME_COLUMNS = {
    "customers": ["first_seen", "churned_at"],
    "contacts": ["active_from", "active_to"],
    "subscriptions": ["started_at", "cancelled_at"],
    "orders": ["ordered_at"],
    "interactions": ["occurred_at"],
    "tickets": ["opened_at", "first_response_at", "resolved_at"],
    "surveys": ["answered_at"],
    "churn_events": ["occurred_at"],
}


@pytest.fixture(scope="module")
def company() -> DemoCompany:
    return generate_company(customers=1500, seed=11, end=END)


def _same_frames(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> bool:
    return a.keys() == b.keys() and all(a[t].equals(b[t]) for t in a)


class TestGenerateCompany:
    def test_same_seed_gives_the_same_company(self, company: DemoCompany) -> None:
        again = generate_company(customers=1500, seed=11, end=END)
        assert _same_frames(company.frames, again.frames)

    def test_another_seed_gives_another_company(self, company: DemoCompany) -> None:
        other = generate_company(customers=1500, seed=12, end=END)
        assert not company.frames["orders"].equals(other.frames["orders"])

    def test_history_ends_on_the_requested_day(self, company: DemoCompany) -> None:
        assert company.as_of == END
        last = company.frames["orders"]["ordered_at"].max().tz_convert("Asia/Shanghai")
        assert last.date() <= END
        assert (END - last.date()).days < 7

    def test_nothing_is_known_before_it_happened(self, company: DemoCompany) -> None:
        as_of = pd.Timestamp(END, tz="Asia/Shanghai") + pd.Timedelta(days=1)
        for table, columns in TIME_COLUMNS.items():
            for column in columns:
                latest = company.frames[table][column].max()
                assert latest <= as_of, f"{table}.{column} is after the as-of instant"

    def test_tickets_answered_after_the_end_have_no_response_yet(
        self, company: DemoCompany
    ) -> None:
        tickets = company.frames["tickets"]
        recent = tickets[tickets["opened_at"] > tickets["opened_at"].max() - pd.Timedelta(days=3)]
        assert recent["first_response_at"].isna().any()
        answered = tickets.dropna(subset=["first_response_at"])
        assert (answered["first_response_at"] >= answered["opened_at"]).all()

    def test_every_reference_points_at_a_row(self, company: DemoCompany) -> None:
        f = company.frames
        customers = set(f["customers"]["id"])
        for table in ("contacts", "subscriptions", "orders", "interactions", "tickets",
                      "surveys", "churn_events", "demo_ground_truth"):  # fmt: skip
            assert set(f[table]["customer_id"]) <= customers, table
        users = set(f["users"]["id"])
        assert set(f["customers"]["owner_id"]) <= users
        assert set(f["interactions"]["user_id"].dropna()) <= users
        renewed = f["subscriptions"]["renewed_from"].dropna()
        assert set(renewed) <= set(f["subscriptions"]["id"])

    def test_external_ids_are_unique(self, company: DemoCompany) -> None:
        for table in ("customers", "orders", "interactions", "tickets", "subscriptions"):
            assert company.frames[table]["external_id"].is_unique, table

    def test_the_company_looks_like_a_chinese_b2b_firm(self, company: DemoCompany) -> None:
        customers = company.frames["customers"]
        assert set(customers["business_model"]) == {"contract", "noncontract"}
        assert {"华东", "华南", "华北", "西南"} <= set(customers["region"])
        assert customers["name"].str.endswith("公司").all()
        assert customers["owner_id"].nunique() >= 8
        summaries = company.frames["interactions"]["summary"].dropna()
        assert summaries.str.contains("客户").mean() > 0.5
        assert (company.frames["orders"]["currency"] == "CNY").all()

    def test_churn_of_every_type_and_planted_reason_occurs(self, company: DemoCompany) -> None:
        truth = company.frames["demo_ground_truth"]
        churned = truth[truth["churned_at"].notna()]
        assert set(churned["churn_type"]) == {"active", "passive", "hidden"}
        planted = {reason for _, reason in MECHANISMS}
        assert planted <= set(churned["churn_reason"])

    def test_the_company_records_only_part_of_its_churn(self, company: DemoCompany) -> None:
        truth = company.frames["demo_ground_truth"]
        recorded = company.frames["churn_events"]["customer_id"].nunique()
        assert 0 < recorded < truth["churned_at"].notna().sum()
        once = truth[truth["won_back_at"].isna()]  # a won-back customer may churn twice
        hidden = once[once["churn_type"] == "hidden"]["customer_id"]
        assert len(hidden) > 0
        assert not set(hidden) & set(company.frames["churn_events"]["customer_id"])

    def test_leaving_customers_fade_before_they_churn(self, company: DemoCompany) -> None:
        """The observable symptom: repeat buyers order less in the 60 days before churn."""
        f = company.frames
        truth = f["demo_ground_truth"].set_index("customer_id")
        buyers = f["customers"].set_index("id")["business_model"] == "noncontract"
        churned_at = truth["churned_at"][buyers & truth["churned_at"].notna()]
        orders = f["orders"].join(churned_at.rename("churn"), on="customer_id", how="inner")
        before = orders["churn"] - orders["ordered_at"]
        late = ((before > pd.Timedelta(0)) & (before <= pd.Timedelta(days=60))).sum() / 60
        early = ((before > pd.Timedelta(days=60)) & (before <= pd.Timedelta(days=240))).sum() / 180
        assert late < 0.6 * early

    def test_rejects_nothing_but_stays_in_range(self, company: DemoCompany) -> None:
        truth = company.frames["demo_ground_truth"]
        assert truth["p_churn_90d"].between(0, 1).all()
        leaving = truth["leaving_since"].notna()
        assert truth.loc[leaving, "p_churn_90d"].mean() > truth.loc[~leaving, "p_churn_90d"].mean()


class TestTrueChurnProbability:
    def test_predicts_the_churn_of_the_next_ninety_days(self) -> None:
        company = generate_company(customers=3000, seed=42, end=END)
        truth = company.frames["demo_ground_truth"]
        expected = truth.loc[~truth["churned"], "p_churn_90d"].sum()
        as_of = truth["as_of"].iloc[0]

        later = continue_company(company.simulator, 90).frames["demo_ground_truth"]
        churned = later["churned_at"].notna() & (later["churned_at"] > as_of)
        realised = churned[: len(truth)][~truth["churned"].to_numpy()].sum()

        assert expected > 50
        assert abs(realised - expected) < 4 * np.sqrt(expected)


class TestContinue:
    def test_continuing_a_saved_simulation_equals_running_at_once(self, tmp_path: Path) -> None:
        whole = generate_company(customers=300, seed=5, end=END, years=2)
        calendar = whole.simulator.calendar
        first = Simulator(
            customers=300, seed=5, start=calendar.start, horizon_days=calendar.horizon_days
        )
        first.step(400)
        save_simulator(first, tmp_path / "sim.npz")
        resumed = continue_company(
            load_simulator(tmp_path / "sim.npz"), calendar.horizon_days - 400
        )
        assert _same_frames(whole.frames, resumed.frames)

    def test_can_go_past_the_planned_history(self) -> None:
        company = generate_company(customers=200, seed=5, end=END, years=1)
        before = len(company.frames["orders"])
        later = continue_company(company.simulator, 30)
        assert later.as_of == date(2026, 7, 30)
        assert len(later.frames["orders"]) > before

    def test_loading_a_missing_state_says_where_it_looked(self, tmp_path: Path) -> None:
        with pytest.raises(NotFound) as error:
            load_simulator(tmp_path / "nothing.npz")
        assert "nothing.npz" in str(error.value)


def _world(days: int = 500) -> Simulator:
    sim = Simulator(customers=2000, seed=3, start=date(2024, 1, 1), horizon_days=730)
    sim.step(days)
    return sim


class TestHazard:
    def test_a_mechanism_multiplies_the_hazard_by_its_documented_factor(self) -> None:
        sim = _world()
        before, x = sim.hazard()
        quiet = np.flatnonzero((x.sum(axis=1) == 0) & ~sim.state.churned[: sim.arrived])[:50]
        sim.state.key_change_day[quiet] = sim.day  # the key contact left today
        after, _ = sim.hazard()
        key = [name for name, _ in MECHANISMS].index("key_contact_change")
        expected = np.exp(DEFAULT_EFFECTS.beta[key])
        np.testing.assert_allclose(after[quiet] / before[quiet], expected)

    def test_every_mechanism_raises_the_hazard(self) -> None:
        assert all(beta > 0 for beta in DEFAULT_EFFECTS.beta)
        assert len(DEFAULT_EFFECTS.beta) == len(MECHANISMS)


class TestIntervene:
    def test_halves_the_hazard_for_the_documented_time(self) -> None:
        sim = _world()
        alive = np.flatnonzero(~sim.state.churned[: sim.arrived])[:200]
        before, _ = sim.hazard()
        sim.intervene(alive)
        after, _ = sim.hazard()
        np.testing.assert_allclose(
            after[alive] / before[alive], DEFAULT_EFFECTS.treatment_hazard_multiplier
        )
        later, _ = sim.hazard(sim.day + DEFAULT_EFFECTS.treatment_days)
        assert (sim.state.treated_until[alive] == sim.day + DEFAULT_EFFECTS.treatment_days).all()
        assert later[alive].mean() > after[alive].mean()

    def test_saves_about_the_documented_share_of_leaving_customers(self) -> None:
        sim = Simulator(customers=20000, seed=8, start=date(2024, 1, 1), horizon_days=730)
        sim.step(400)
        leaving = np.flatnonzero(sim.state.leaving[: sim.arrived])
        saved = sim.intervene(leaving)
        share, n = saved.mean(), len(leaving)
        p = DEFAULT_EFFECTS.treatment_save_probability
        assert n > 300
        assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / n)
        assert not sim.state.leaving[leaving[saved]].any()
        assert sim.state.saved[leaving[saved]].all()

    def test_treated_customers_churn_less_than_identical_untreated_ones(self) -> None:
        treated, control = _world(400), _world(400)
        alive = np.flatnonzero(~treated.state.churned[: treated.arrived])
        treated.intervene(alive)
        treated.step(90)
        control.step(90)
        assert treated.state.churned[alive].sum() < control.state.churned[alive].sum()

    def test_churned_or_unknown_customers_are_ignored(self) -> None:
        sim = _world(300)
        churned = np.flatnonzero(sim.state.churned[: sim.arrived])[:5]
        saved = sim.intervene(np.concatenate([churned, [sim.pop.size - 1]]))
        assert not saved.any()
        assert (sim.state.interventions[churned] == 0).all()
