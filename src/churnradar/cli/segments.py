"""``churnradar segment``: tier, RFM segment, action group and tags for every customer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from churnradar.cli.context import CommandContext
from churnradar.cli.report import parse_as_of


def segment(
    ctx: typer.Context,
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of", help="Segment with what was recorded before this date, YYYY-MM-DD."
        ),
    ] = "",
) -> None:
    """Write each customer's value tier and automatic tags; show how many fall where."""
    from churnradar.domain.segments import term
    from churnradar.store.schema import require_current
    from churnradar.workflow.segmentation import segment_customers

    command: CommandContext = ctx.obj
    require_current(command.engine)
    moment = parse_as_of(as_of, command.settings.timezone) or datetime.now(UTC)
    with command.console.status(command.t("cli.segment.working")):
        report = segment_customers(command.engine, command.settings, as_of=moment)
    locale = command.settings.locale
    command.console.print(
        command.t(
            "cli.segment.done",
            customers=f"{report.customers:,}",
            tiers=f"{report.written.tiers_changed:,}",
            added=f"{report.written.tags_added:,}",
            removed=f"{report.written.tags_removed:,}",
        )
    )
    for title, counts in (
        ("cli.segment.tiers", report.tiers),
        ("cli.segment.action_groups", report.action_groups),
        ("cli.segment.segments", report.segments),
        ("cli.segment.tags", report.tags),
    ):
        table = Table(title=command.t(title), title_justify="left")
        table.add_column(command.t("cli.segment.group"))
        table.add_column(command.t("cli.segment.customers"), justify="right")
        for code, count in counts.items():
            table.add_row(term(code).label(locale), f"{count:,}")
        command.console.print(table)
