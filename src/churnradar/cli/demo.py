"""``churnradar demo``: build the synthetic demo company and show what it holds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from churnradar.cli.context import CommandContext
from churnradar.errors import InvalidInput
from churnradar.store.engine import safe_url

if TYPE_CHECKING:
    from churnradar.demo.summary import DemoSummary
    from churnradar.workflow.demo_build import DemoBuild


def demo(
    ctx: typer.Context,
    customers: int = typer.Option(3000, "--customers", "-n", help="Number of customers."),
    seed: int = typer.Option(
        42, "--seed", help="Random seed; the same seed gives the same company."
    ),
    end: str = typer.Option(
        "", "--end", help="Last day of the history, YYYY-MM-DD (default: yesterday)."
    ),
    years: int = typer.Option(3, "--years", help="Years of history."),
    replace: bool = typer.Option(
        False, "--replace", help="Delete the customers already in the database first."
    ),
    serve: bool = typer.Option(
        True,
        "--serve/--no-serve",
        help="Serve the web app afterwards (this version has none yet and says where the data is).",
    ),
) -> None:
    """Build a realistic synthetic company with known churn mechanisms, into the database."""
    # numpy and pandas load only for this command, so `churnradar --help` and `init` start fast
    from churnradar.workflow.demo_build import build_demo_company

    command: CommandContext = ctx.obj
    settings = command.settings
    last_day = _parse_day(end) if end else datetime.now(settings.zone).date() - timedelta(days=1)
    console = command.console
    console.print(
        command.t(
            "cli.demo.building",
            customers=f"{customers:,}",
            days=round(365.25 * years),
            end=last_day.isoformat(),
            seed=seed,
        )
    )
    with console.status("") as status:
        build = build_demo_company(
            command.engine,
            settings,
            customers=customers,
            seed=seed,
            end=last_day,
            years=years,
            replace=replace,
            on_step=lambda step: status.update(command.t(f"cli.demo.step.{step}")),
        )
    console.print(_summary_table(command, build.summary))
    _print_timings(command, build)
    if serve:
        console.print(
            command.t(
                "cli.demo.no_serve",
                url=safe_url(command.engine.url),
                mirror=settings.mirror_dir,
            ),
            soft_wrap=True,
        )


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("cli.bad_date", option="--end", value=text) from None


def _summary_table(command: CommandContext, s: DemoSummary) -> Table:
    t = command.t
    table = Table(title=t("cli.demo.summary_title"), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        (t("summary.period"), f"{s.start.isoformat()} – {s.as_of.isoformat()}"),
        (t("summary.customers"), f"{s.customers:,}"),
        ("  " + t("summary.contract"), f"{s.contract:,}"),
        ("  " + t("summary.noncontract"), f"{s.noncontract:,}"),
        (t("summary.reps"), f"{s.reps:,} / {s.teams:,}"),
        (t("summary.orders"), f"{s.orders:,}"),
        (t("summary.revenue"), f"¥{s.revenue:,.0f}"),
        (t("summary.subscriptions"), f"{s.subscriptions:,}"),
        (t("summary.interactions"), f"{s.interactions:,}"),
        (t("summary.tickets"), f"{s.tickets:,} ({s.complaints:,})"),
        (t("summary.surveys"), f"{s.surveys:,}"),
        (t("summary.churned"), f"{s.churned:,}"),
        ("  " + t("summary.churned_recorded"), f"{s.churned_recorded:,}"),
        ("  " + t("summary.won_back"), f"{s.won_back:,}"),
    ]
    for label, value in rows:
        table.add_row(label, value)
    table.add_section()
    for kind, count in s.by_type.items():
        table.add_row(f"{t('summary.by_type')}: {t(f'enum.ChurnType.{kind}')}", f"{count:,}")
    table.add_section()
    for reason, count in s.by_reason.items():
        table.add_row(f"{t('summary.by_reason')}: {t(f'enum.ReasonCode.{reason}')}", f"{count:,}")
    return table


def _print_timings(command: CommandContext, build: DemoBuild) -> None:
    load = build.load
    command.console.print(
        command.t(
            "cli.demo.loaded",
            rows=f"{load.total_rows:,}",
            seconds=load.total_seconds,
            rate=load.rows_per_second,
        )
    )
    command.console.print(
        command.t(
            "cli.demo.timings",
            simulate=build.seconds["simulate"],
            load=build.seconds["load"],
            mirror=build.seconds["mirror"],
        )
    )


def demo_advance(
    ctx: typer.Context,
    days: int = typer.Option(1, "--days", help="Days to simulate."),
    contact: list[int] = typer.Option(  # noqa: B008 - Typer reads the default
        [], "--contact", help="Id of a customer given a retention contact today (repeatable)."
    ),
) -> None:
    """Continue the demo company's life day by day, applying retention contacts."""
    from churnradar.workflow.demo_advance import advance_demo_company

    command: CommandContext = ctx.obj
    with command.console.status(command.t("cli.demo.step.simulate")):
        result = advance_demo_company(
            command.engine, command.settings, days=days, contacted=contact
        )
    tables = ", ".join(f"{name} {count:,}" for name, count in result.written.items())
    command.console.print(
        command.t(
            "cli.demo_advance.done",
            start=result.start.isoformat(),
            as_of=result.as_of.isoformat(),
            contacted=result.contacted,
            rows=f"{sum(result.written.values()):,}",
            tables=tables,
        ),
        soft_wrap=True,
    )
    if result.contacted:
        command.console.print(command.t("cli.demo_advance.saved", saved=result.saved))
