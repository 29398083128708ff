"""``churnradar import KIND FILE``: load a CSV or Excel file, show what was read and kept."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from churnradar.cli.context import CommandContext

if TYPE_CHECKING:
    from churnradar.workflow.import_file import ImportReport

SHOWN_PROBLEMS = 10


def import_(
    ctx: typer.Context,
    kind: Annotated[
        str,
        typer.Argument(
            help="customers, contacts, orders, subscriptions, interactions (follow-ups), "
            "tickets, complaints, surveys or churn_events."
        ),
    ],
    file: Annotated[Path, typer.Argument(help="A .csv (UTF-8 or GBK/GB18030) or .xlsx file.")],
    sheet: str = typer.Option("", "--sheet", help="The Excel sheet to read (default: the first)."),
    encoding: str = typer.Option("", "--encoding", help="The CSV encoding (default: detected)."),
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help='A JSON or TOML file {"column header": "field"} overriding the recognised '
            "columns.",
        ),
    ] = None,
    all_or_nothing: bool = typer.Option(
        False, "--all-or-nothing", help="Keep nothing if any row is rejected."
    ),
    create_customers: bool = typer.Option(
        False,
        "--create-customers",
        help="Create the customers a row names but the database "
        "does not hold, instead of rejecting the row.",
    ),
    create_owners: bool = typer.Option(
        False,
        "--create-owners",
        help="Create the owners (sales users) a row names but the "
        "database does not hold, instead of rejecting the row.",
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Check the file and count what would change; keep nothing."
    ),
    by: str = typer.Option("", "--by", help="The user name of who imports, for the record."),
) -> None:
    """Import a file of customers or of what happens around them, validated row by row."""
    from churnradar.ingest.headers import read_mapping_file
    from churnradar.store.schema import require_current
    from churnradar.workflow.import_file import ImportRequest, import_file

    command: CommandContext = ctx.obj
    request = ImportRequest(
        kind=kind,
        path=file,
        sheet=sheet or None,
        encoding=encoding or None,
        mapping=read_mapping_file(mapping) if mapping else None,
        all_or_nothing=all_or_nothing,
        create_customers=create_customers,
        create_owners=create_owners,
        dry_run=dry_run,
        by=by or None,
    )
    require_current(command.engine)
    with command.console.status(command.t("cli.import.reading", file=file.name)) as status:
        report = import_file(
            command.engine,
            command.settings,
            request,
            on_chunk=lambda rows: status.update(command.t("cli.import.progress", rows=f"{rows:,}")),
        )
    _print_mapping(command, report)
    _print_outcome(command, report)
    if report.status == "rejected":
        raise typer.Exit(2)


def _print_mapping(command: CommandContext, report: ImportReport) -> None:
    layout = report.layout
    where = layout.sheet or layout.encoding or ""
    table = Table(
        title=command.t(
            "cli.import.mapping_title", file=report.file, where=where, row=layout.header_row
        )
    )
    table.add_column(command.t("cli.import.column"))
    table.add_column(command.t("cli.import.field"))
    for choice in report.mapping.columns:
        label = command.t(choice.field.label_key)
        note = command.t("cli.import.from_mapping") if choice.explicit else ""
        unit = f" ×{choice.multiplier:,.0f}" if choice.multiplier != 1 else ""
        table.add_row(escape(choice.header), f"{label} ({choice.field.name}){unit}{note}")
    for header in report.mapping.ignored:
        table.add_row(escape(header), f"[dim]{command.t('cli.import.ignored')}[/]")
    command.console.print(table)


def _print_outcome(command: CommandContext, report: ImportReport) -> None:
    console = command.console
    console.print(
        command.t(
            f"cli.import.status.{report.status}",
            read=f"{report.read:,}",
            accepted=f"{report.accepted:,}",
            rejected=f"{report.rejected:,}",
        )
    )
    for table, merged in report.counts.items():
        console.print(
            command.t(
                "cli.import.counts",
                table=command.t(f"ingest.table.{table}"),
                inserted=f"{merged.inserted:,}",
                updated=f"{merged.updated:,}",
                unchanged=f"{merged.unchanged:,}",
            )
        )
    if report.batch_id is not None:
        console.print(command.t("cli.import.batch", batch=report.batch_id))
    if not report.rejected:
        return
    from churnradar.ingest.problems import render

    for problem in report.problems[:SHOWN_PROBLEMS]:
        text = render(
            {
                "code": problem.code,
                "header": problem.column,
                "field": problem.params.get("field", ""),
                "value": problem.params.get("value"),
                "params": problem.params,
            },
            command.settings.locale,
        )
        console.print(
            f"  {command.t('cli.import.row', row=problem.row)} {escape(text)}", soft_wrap=True
        )
    if len(report.problems) > SHOWN_PROBLEMS:
        console.print(command.t("cli.import.more_problems"))
    if report.rejected_file is not None:
        console.print(
            command.t("cli.import.rejects_file", path=str(report.rejected_file)), soft_wrap=True
        )
