"""Alerts from rule firings: one row per customer and firing rule, with the rule's severity,
reason code, playbook and evidence (the values of its evidence features that day).

Built with one filter per rule over the evaluated table, never a loop over customers; the
sentence is rendered from the evidence when an alert is shown (:func:`alert_sentence`), in
the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from churnradar.warning.reasons import render
from churnradar.warning.spec import RulePack

EVIDENCE = pa.map_(pa.string(), pa.float64())
ALERT_SCHEMA = pa.schema(
    [
        ("customer_id", pa.int64()),
        ("rule", pa.string()),
        ("severity", pa.string()),
        ("reason", pa.string()),
        ("playbook", pa.string()),
        ("evidence", EVIDENCE),
    ]
)


def rule_alerts(pack: RulePack, evaluated: pa.Table) -> pa.Table:
    """``evaluated`` has ``customer_id``, one boolean column per enabled rule (as from
    :func:`~churnradar.warning.rule_firings`) and every evidence feature of the pack."""
    parts = []
    for rule in pack.enabled:
        fired = evaluated.filter(pc.fill_null(evaluated.column(rule.key), False))
        n = fired.num_rows
        if n == 0:
            continue
        width = len(rule.evidence)
        values = [fired.column(code).cast(pa.float64()) for code in rule.evidence]
        items = (
            pa.concat_arrays([v.combine_chunks() for v in values]).take(
                pa.array(np.arange(n * width).reshape(width, n).T.ravel())
            )
            if width
            else pa.array([], pa.float64())
        )
        keys = pa.array(list(rule.evidence) * n, pa.string())
        offsets = pa.array(np.arange(n + 1, dtype=np.int32) * width)
        parts.append(
            pa.table(
                {
                    "customer_id": fired.column("customer_id").cast(pa.int64()),
                    "rule": pa.array([rule.key] * n, pa.string()),
                    "severity": pa.array([rule.severity.value] * n, pa.string()),
                    "reason": pa.array([rule.reason.value] * n, pa.string()),
                    "playbook": pa.array([rule.playbook] * n, pa.string()),
                    "evidence": pa.MapArray.from_arrays(offsets, keys, items, type=EVIDENCE),
                },
                schema=ALERT_SCHEMA,
            )
        )
    return pa.concat_tables(parts) if parts else ALERT_SCHEMA.empty_table()


def alert_sentence(
    pack: RulePack, rule: str, evidence: Mapping[str, float | None], locale: str
) -> str:
    return render(pack.rule(rule).sentence, evidence, locale)
