"""The ``churnradar`` command and its one error boundary.

Every expected failure is a :class:`ChurnradarError`; the boundary prints it as one
localised line on stderr and exits 2 for input or configuration problems, 1 otherwise.
``--debug`` lets the traceback through.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from churnradar.cli import database, demo, health, imports, report, rules, segments
from churnradar.cli.context import CommandContext
from churnradar.config import fallback_locale
from churnradar.errors import ChurnradarError, ConfigurationError, InvalidInput

app = typer.Typer(
    name="churnradar",
    help="churnradar (流失雷达): customer churn analysis and early warning.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("init")(database.init)
app.command("demo")(demo.demo)
app.command("demo-advance")(demo.demo_advance)
app.command("import")(imports.import_)
app.command("report")(report.report)
app.command("segment")(segments.segment)
app.command("health")(health.health)
app.add_typer(rules.app, name="rules")


@app.callback()
def main(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
) -> None:
    ctx.obj = CommandContext(debug=debug)


def run() -> None:
    """Entry point. Typer handles usage errors itself (standalone mode) and lets ours through."""
    try:
        app()
    except ChurnradarError as error:
        if "--debug" in sys.argv:
            raise
        err = Console(stderr=True, highlight=False)
        err.print(f"[bold red]churnradar:[/] {escape(error.render(_locale()))}", soft_wrap=True)
        sys.exit(2 if isinstance(error, InvalidInput | ConfigurationError) else 1)


def _locale() -> str:
    try:
        from churnradar.config import load_settings

        return load_settings().locale
    except ConfigurationError:
        return fallback_locale()
