"""Early warning: the rule language and its evaluation, the health score and risk tiers, reason
sentences and playbooks, and the backtest that grades rules on history.

Rules are data (docs/rules.md): :func:`parse_pack` validates a YAML document without ever
evaluating it; :func:`rule_firings` and :func:`health_scores` turn a pack into Ibis
expressions over the feature table, so every rule for every customer is one pass on the
engine that holds the data.
"""

from functools import cache
from importlib import resources

from churnradar.warning.evaluate import rule_firings
from churnradar.warning.health import health_scores, reason_sources, top_reasons
from churnradar.warning.parse import parse_pack
from churnradar.warning.reasons import render
from churnradar.warning.spec import RulePack

DEFAULT_PACK_FILE = "default_pack.yaml"


def default_pack_text() -> str:
    return resources.files(__package__).joinpath(DEFAULT_PACK_FILE).read_text(encoding="utf-8")


@cache
def default_pack() -> RulePack:
    """The pack churnradar ships: every warning sign of the seeds, the health score's weights,
    the points model and the tier cut-offs."""
    return parse_pack(default_pack_text(), name=DEFAULT_PACK_FILE)


__all__ = [
    "RulePack",
    "default_pack",
    "default_pack_text",
    "health_scores",
    "parse_pack",
    "reason_sources",
    "render",
    "rule_firings",
    "top_reasons",
]
