"""``churnradar rules``: check, load, show and export the rule pack, and backtest it on history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from churnradar.cli.context import CommandContext
from churnradar.cli.report import parse_as_of
from churnradar.errors import InvalidInput

if TYPE_CHECKING:
    from churnradar.warning import RulePack
    from churnradar.workflow.backtest import Backtest

app = typer.Typer(
    help="Warning rules: check, load, show, export and backtest.", no_args_is_help=True
)

FileArgument = Annotated[Path, typer.Argument(help="A rule pack file (YAML), see docs/rules.md.")]


@app.command("check")
def check(ctx: typer.Context, file: FileArgument) -> None:
    """Validate a rule file without saving it."""
    from churnradar.workflow.rule_packs import read_rule_file

    command: CommandContext = ctx.obj
    with _problems_listed(command):
        pack = read_rule_file(file).pack
    command.console.print(
        command.t(
            "cli.rules.valid",
            file=file.name,
            rules=len(pack.rules),
            enabled=len(pack.enabled),
            playbooks=len(pack.playbooks),
        )
    )


@app.command("load")
def load(ctx: typer.Context, file: FileArgument) -> None:
    """Validate a rule file and make it the pack in force (changed rules get a new version)."""
    from churnradar.store.schema import require_current
    from churnradar.workflow.rule_packs import load_rule_file, read_rule_file

    command: CommandContext = ctx.obj
    with _problems_listed(command):
        rule_file = read_rule_file(file)
    require_current(command.engine)
    changes = load_rule_file(command.engine, rule_file)
    command.console.print(
        command.t(
            "cli.rules.loaded",
            added=len(changes.added),
            changed=len(changes.changed),
            disabled=len(changes.disabled),
            unchanged=len(changes.unchanged),
        )
    )


@app.command("show")
def show(ctx: typer.Context) -> None:
    """List the rules in force."""
    from churnradar.store.schema import require_current
    from churnradar.workflow.rule_packs import pack_in_force

    command: CommandContext = ctx.obj
    require_current(command.engine)
    pack = pack_in_force(command.engine)
    locale = command.settings.locale
    table = Table(title=command.t("cli.rules.in_force"), title_justify="left")
    for column in ("key", "title", "severity", "reason", "enabled"):
        table.add_column(command.t(f"cli.rules.column.{column}"))
    for rule in pack.rules:
        table.add_row(
            rule.key,
            rule.title.label(locale),
            command.t(f"enum.AlertSeverity.{rule.severity.value}"),
            command.t(f"enum.ReasonCode.{rule.reason.value}"),
            command.t("cli.rules.yes" if rule.enabled else "cli.rules.no"),
        )
    command.console.print(table)


@app.command("export")
def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead.")
    ] = None,
) -> None:
    """Write the pack in force as a rule file, to edit and load again."""
    from churnradar.store.schema import require_current
    from churnradar.workflow.rule_packs import pack_in_force_text

    command: CommandContext = ctx.obj
    require_current(command.engine)
    text = pack_in_force_text(command.engine)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        typer.echo(text, nl=False)


@app.command("backtest")
def backtest(
    ctx: typer.Context,
    start: Annotated[
        str,
        typer.Option(
            "--from", help="First evaluation date, YYYY-MM-DD (default: a year before --to)."
        ),
    ] = "",
    end: Annotated[
        str,
        typer.Option(
            "--to", help="Last evaluation date, YYYY-MM-DD (default: one horizon before --as-of)."
        ),
    ] = "",
    as_of: Annotated[
        str, typer.Option("--as-of", help="Grade with churn known before this date (default: now).")
    ] = "",
    step: Annotated[int, typer.Option("--step", help="Days between evaluation dates.")] = 7,
    horizon: Annotated[
        int, typer.Option("--horizon", help="Days after an alert in which churn counts.")
    ] = 90,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Backtest this rule file instead of the pack in force."),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="text (a table) or json.")
    ] = "text",
) -> None:
    """Evaluate the rules at past dates and grade each on the churn that followed."""
    from churnradar.store.schema import require_current
    from churnradar.workflow.backtest import backtest_pack
    from churnradar.workflow.rule_packs import pack_in_force, read_rule_file

    command: CommandContext = ctx.obj
    if output_format not in ("text", "json"):
        raise InvalidInput("report.bad_format", value=output_format)
    timezone = command.settings.timezone
    if file is not None:
        with _problems_listed(command):
            pack = read_rule_file(file).pack
    require_current(command.engine)
    if file is None:
        pack = pack_in_force(command.engine)
    # started at the first date, so a refused window prints its message alone
    progress = Progress(console=Console(stderr=True), transient=True)
    task = progress.add_task(command.t("cli.rules.backtesting"), total=None)

    def advance(done: int, total: int) -> None:
        progress.start()
        progress.update(task, completed=done, total=total)

    try:
        result = backtest_pack(
            command.engine,
            command.settings,
            pack,
            step_days=step,
            horizon_days=horizon,
            progress=advance,
            start=parse_as_of(start, timezone),
            end=parse_as_of(end, timezone),
            # by default today's first instant: every date falls at midnight, company time
            as_of=parse_as_of(as_of or f"{datetime.now(ZoneInfo(timezone)):%Y-%m-%d}", timezone),
        )
    finally:
        progress.stop()
    if output_format == "json":
        typer.echo(json.dumps(_as_json(result), ensure_ascii=False, indent=2))
    else:
        _print_backtest(command, pack, result)


def _as_json(result: Backtest) -> dict[str, Any]:
    return {
        "start": result.start.isoformat(),
        "end": result.end.isoformat(),
        "step_days": result.step_days,
        "horizon_days": result.horizon_days,
        "dates": result.dates,
        "customers": result.customers,
        "reps": result.reps,
        "grades": [asdict(grade) for grade in result.grades],
    }


def _print_backtest(command: CommandContext, pack: RulePack, result: Backtest) -> None:
    from churnradar.warning.backtest import PACK
    from churnradar.workflow.backtest import HEALTH_RULE

    locale = command.settings.locale
    console = command.console
    local = ZoneInfo(command.settings.timezone)
    console.print(
        command.t(
            "cli.rules.backtest_title",
            start=f"{result.start.astimezone(local):%Y-%m-%d}",
            end=f"{result.end.astimezone(local):%Y-%m-%d}",
            dates=result.dates,
            step=result.step_days,
            customers=f"{result.customers:,}",
            reps=result.reps,
            horizon=result.horizon_days,
        ),
        style="bold",
    )
    base = result.grades[-1].base_rate
    console.print(
        command.t("cli.rules.base_rate", rate=_percent(base), horizon=result.horizon_days)
    )
    columns = ("rule", "alerts", "late", "precision", "lift", "recall", "lead", "workload")
    table = Table(title_justify="left")
    for column in columns:
        table.add_column(
            command.t(f"cli.rules.column.{column}"), justify="left" if column == "rule" else "right"
        )
    titles = {rule.key: rule.title.label(locale) for rule in pack.rules}
    titles[HEALTH_RULE] = command.t(
        "cli.rules.health_rule", cut=f"{pack.health.tiers.medium_below:g}"
    )
    titles[PACK] = command.t("cli.rules.whole_pack")
    for grade in result.grades:
        table.add_row(
            escape(titles.get(grade.rule, grade.rule)),
            f"{grade.alerts:,}",
            f"{grade.late:,}",
            _percent(grade.precision),
            "-" if grade.lift is None else f"{grade.lift:.2f}",
            f"{grade.churners_caught:,} / {grade.churners:,} ({_percent(grade.recall)})",
            "-" if grade.median_lead_days is None else f"{grade.median_lead_days:.0f}",
            "-" if grade.alerts_per_rep_week is None else f"{grade.alerts_per_rep_week:.2f}",
            end_section=grade.rule == HEALTH_RULE or grade.rule == pack.enabled[-1].key
            if pack.enabled
            else False,
        )
    console.print(table)
    console.print(command.t("cli.rules.backtest_legend", horizon=result.horizon_days))


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


@contextmanager
def _problems_listed(command: CommandContext) -> Iterator[None]:
    """A rule file's problems, one line each (the error boundary prints only its summary)."""
    try:
        yield
    except InvalidInput as error:
        if error.key != "rules.invalid_file":
            raise
        err = Console(stderr=True, highlight=False)
        err.print(f"[bold red]churnradar:[/] {escape(error.render(command.settings.locale))}")
        for problem in error.problems:
            message = command.t(problem.code, **problem.params)
            line = command.t(
                "rules.problem_at",
                line=problem.row or "-",
                path=problem.column or "-",
                message=message,
            )
            err.print(f"  {escape(line)}", soft_wrap=True)
        raise typer.Exit(2) from None
