"""``churnradar health``: every active customer's health score and risk tier as of a date,
the rules firing, and the customers in worst health with their reasons and playbook."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from churnradar.cli.context import CommandContext
from churnradar.cli.report import parse_as_of
from churnradar.domain import RiskTier


def health(
    ctx: typer.Context,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            help="Assess with what was recorded before this date, YYYY-MM-DD (default: now).",
        ),
    ] = "",
    lowest: Annotated[
        int, typer.Option("--lowest", help="How many customers in worst health to list.")
    ] = 20,
) -> None:
    """Health score, risk tier and warning rules for every active customer."""
    from churnradar.store.schema import require_current
    from churnradar.workflow.assessment import assess_customers
    from churnradar.workflow.rule_packs import pack_in_force

    command: CommandContext = ctx.obj
    require_current(command.engine)
    moment = parse_as_of(as_of, command.settings.timezone) or datetime.now(UTC)
    pack = pack_in_force(command.engine)
    with command.console.status(command.t("cli.health.working")):
        result = assess_customers(
            command.engine, command.settings, pack, as_of=moment, lowest=max(lowest, 0)
        )
    console, locale = command.console, command.settings.locale
    cuts = pack.health.tiers
    console.print(
        command.t(
            "cli.health.title",
            customers=f"{result.customers:,}",
            as_of=moment.astimezone().strftime("%Y-%m-%d %H:%M"),
            high=f"{cuts.high_below:g}",
            medium=f"{cuts.medium_below:g}",
        ),
        style="bold",
    )
    tiers = Table(title=command.t("cli.health.tiers"), title_justify="left")
    tiers.add_column(command.t("cli.health.column.tier"))
    tiers.add_column(command.t("cli.health.column.customers"), justify="right")
    for tier in RiskTier:
        tiers.add_row(command.t(f"enum.RiskTier.{tier.value}"), f"{result.tiers.get(tier, 0):,}")
    console.print(tiers)
    firing = Table(title=command.t("cli.health.firing"), title_justify="left")
    firing.add_column(command.t("cli.rules.column.rule"))
    firing.add_column(command.t("cli.health.column.customers"), justify="right")
    for rule in pack.enabled:
        firing.add_row(escape(rule.title.label(locale)), f"{result.firing[rule.key]:,}")
    console.print(firing)
    if not result.lowest:
        return
    worst = Table(title=command.t("cli.health.lowest"), title_justify="left", show_lines=True)
    for column in ("customer", "owner", "health", "tier", "reasons", "alerts", "playbook"):
        worst.add_column(
            command.t(f"cli.health.column.{column}"),
            justify="right" if column == "health" else "left",
        )
    for row in result.lowest:
        worst.add_row(
            escape(row.name),
            escape(row.owner or "-"),
            f"{row.health:.0f}",
            command.t(f"enum.RiskTier.{row.risk_tier}"),
            escape("\n".join(row.reasons) or "-"),
            escape("\n".join(row.alerts) or "-"),
            escape(row.playbook or "-"),
        )
    console.print(worst)
