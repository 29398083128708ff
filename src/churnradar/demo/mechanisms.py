"""The planted truth of the demo company: how hazards arise and what an intervention does.

docs/demo-data.md explains each number; later work is judged by how well it recovers them.

A customer's daily hazard of *deciding to leave* is

    h = h0 * frailty * onboarding * exp(sum_k beta_k * x_k) * treatment

where each x_k in [0, 1] is one mechanism's exposure on that day. After the decision the
customer is *leaving*: orders thin out and shrink, logins and inbound feedback fade, follow-up
notes turn sour, and after the leaving period the customer churns. Those symptoms are what a
warning system can see; the causes are the mechanisms.
"""

from __future__ import annotations

from dataclasses import dataclass

# Mechanism keys, in the order of the exposure matrix, with the churn reason each causes.
MECHANISMS: tuple[tuple[str, str], ...] = (
    ("slow_complaint_response", "service"),
    ("complaints", "service"),
    ("follow_up_gap", "engagement"),
    ("key_contact_change", "relationship"),
    ("price_rise", "price"),
    ("competitor_offer", "competition"),
)
# Causes of background churn (no mechanism) and how often each is the reason.
BACKGROUND_REASONS = ("unknown", "external", "payment", "product", "price")
BACKGROUND_REASON_WEIGHTS = (0.40, 0.20, 0.15, 0.15, 0.10)


@dataclass(frozen=True, kw_only=True)
class TrueEffects:
    # Base annual churn by segment (大客户, 中型客户, 小微客户) before any mechanism.
    base_annual_churn: tuple[float, float, float] = (0.03, 0.06, 0.10)
    noncontract_base_multiplier: float = 1.3
    channel_multipliers: tuple[float, ...] = (1.0, 1.15, 1.35, 1.1, 0.75)
    frailty_sigma: float = 0.4
    onboarding_days: int = 90
    onboarding_multiplier: float = 1.6

    # Log-hazard coefficients, one per MECHANISMS entry.
    beta: tuple[float, ...] = (1.6, 0.8, 1.1, 1.3, 1.2, 1.4)
    complaint_saturation: int = 2  # decayed complaint count at which x_complaints reaches 1
    unanswered_after_days: int = 2  # a first response later than this is a slow answer
    complaint_memory_days: int = 90  # how long a slowly answered complaint is held against us
    follow_up_gap_start: int = 45  # days without an outbound follow-up before x_gap rises
    follow_up_gap_full: int = 90  # ... reaching 1 here
    key_contact_window: int = 90
    price_rise_window: int = 120
    price_rise_size: float = 0.12
    competitor_daily_rate: float = 1 / 800
    competitor_window: int = 60
    competitor_entry_region: str = "华南"
    competitor_entry_multiplier: float = 3.0
    key_contact_daily_rate: float = 1 / 1000

    # Leaving: how long it lasts and what it does to observable behaviour.
    leaving_days_noncontract: tuple[int, int] = (21, 70)
    leaving_days_contract: tuple[int, int] = (30, 90)
    contract_waits_for_term_end_within: int = 150
    leaving_order_rate: float = 0.45  # order rate multiplier at the start, fading to 0.1
    leaving_amount: float = 0.7
    leaving_inbound: float = 0.3
    leaving_activity_floor: float = 0.1

    # The true effect of a retention contact (DESIGN.md: uplift is measured against this).
    treatment_hazard_multiplier: float = 0.5
    treatment_days: int = 90
    treatment_save_probability: float = 0.4

    # What the company gets to know.
    report_probability_contract: float = 0.7
    report_probability_noncontract: float = 0.25
    win_back_daily_rate: float = 1 / 4000

    def annual_to_daily(self, annual: float) -> float:
        """Daily probability that compounds to ``annual`` over 365 days."""
        return float(1 - (1 - annual) ** (1 / 365))


DEFAULT_EFFECTS = TrueEffects()
