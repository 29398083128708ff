"""The synthetic demo company: a day-step simulator with planted churn mechanisms and a
documented true effect of intervening (docs/demo-data.md). The only reader of the ground
truth table."""

from churnradar.demo.company import (
    MAX_CUSTOMERS,
    MIN_CUSTOMERS,
    DemoCompany,
    continue_company,
    generate_company,
)
from churnradar.demo.mechanisms import DEFAULT_EFFECTS, MECHANISMS, TrueEffects
from churnradar.demo.persistence import load_simulator, save_simulator
from churnradar.demo.simulator import Simulator

__all__ = [
    "DEFAULT_EFFECTS",
    "MAX_CUSTOMERS",
    "MECHANISMS",
    "MIN_CUSTOMERS",
    "DemoCompany",
    "Simulator",
    "TrueEffects",
    "continue_company",
    "generate_company",
    "load_simulator",
    "save_simulator",
]
