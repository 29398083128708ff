"""Rules and conditions as Ibis expressions: every rule of a pack for every customer in one
pass over the feature table, on whichever engine holds it.

The input table has one row per customer: ``customer_id``, ``segment``, ``business_model``
and the catalogue features the pack reads (:meth:`RulePack.features`). A comparison with a
missing value is false (so ``not`` of it is true); ``missing`` asks for the missing value.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import ibis
import ibis.expr.types as ir

from churnradar.warning.spec import (
    AllOf,
    AnyOf,
    Compare,
    Condition,
    Missing,
    Not,
    Op,
    Rule,
    RulePack,
    Scope,
    Threshold,
)

ATTRIBUTES = ("customer_id", "segment", "business_model")
_OPERATORS: dict[Op, Callable[[ir.Value, ir.Value], ir.BooleanValue]] = {
    Op.GT: operator.gt,
    Op.GE: operator.ge,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
}


def rule_firings(pack: RulePack, table: ir.Table) -> ir.Table:
    """``customer_id`` and one boolean column per enabled rule, named by its key: whether
    the rule fires for the customer."""
    return table.select("customer_id", **{rule.key: fires(rule, table) for rule in pack.enabled})


def fires(rule: Rule, table: ir.Table) -> ir.BooleanValue:
    return in_scope(rule.scope, table) & condition(rule.when, table)


def in_scope(scope: Scope, table: ir.Table) -> ir.BooleanValue:
    inside: ir.BooleanValue = ibis.literal(True)
    if scope.segments is not None:
        inside &= table.segment.isin(sorted(scope.segments)).fill_null(False)
    if scope.business_models is not None:
        inside &= table.business_model.isin(sorted(scope.business_models)).fill_null(False)
    if scope.min_tenure_days is not None:
        inside &= (table.tenure_days >= scope.min_tenure_days).fill_null(False)
    return inside


def condition(node: Condition, table: ir.Table) -> ir.BooleanValue:
    match node:
        case Compare(feature=feature, op=op, value=value, ref=ref, factor=factor):
            right = threshold(value, table) if value is not None else table[ref] * factor
            compared: ir.BooleanValue = _OPERATORS[op](table[feature], right)
            return compared.fill_null(False)
        case Missing(feature=feature):
            return table[feature].isnull()
        case AllOf(parts=parts):
            return _fold(operator.and_, [condition(part, table) for part in parts])
        case AnyOf(parts=parts):
            return _fold(operator.or_, [condition(part, table) for part in parts])
        case Not(part=part):
            return ~condition(part, table)
    raise TypeError(node)


def threshold(value: Threshold, table: ir.Table) -> ir.FloatingValue:
    """The customer's threshold: his segment's, else his business model's, else the default."""
    chosen: ir.FloatingValue = (
        ibis.literal(value.default, "float64")
        if value.default is not None
        else ibis.null("float64")
    )
    if value.is_constant():
        return chosen
    for column, overrides in (
        (table.business_model, value.by_business_model),
        (table.segment, value.by_segment),
    ):
        if overrides:
            cases = [
                (column == key, ibis.literal(number, "float64"))
                for key, number in overrides.items()
            ]
            chosen = ibis.cases(*cases, else_=chosen)
    return chosen


def _fold(
    combine: Callable[[ir.BooleanValue, ir.BooleanValue], ir.BooleanValue],
    parts: list[ir.BooleanValue],
) -> ir.BooleanValue:
    result = parts[0]
    for part in parts[1:]:
        result = combine(result, part)
    return result
