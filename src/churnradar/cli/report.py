"""``churnradar report --month YYYY-MM``: the month's churn figures as text or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import JustifyMethod
from rich.table import Table

from churnradar.cli.context import CommandContext
from churnradar.errors import InvalidInput

if TYPE_CHECKING:
    from churnradar.workflow.report import MonthlyReport

# Columns that name a group rather than hold a figure.
_KEYS = ("period", "cohort", "months_since", "churn_reason", "churn_type")
# Text shows the essential figures of a section; JSON has every column.
_FLOW = (
    "customers_at_start",
    "new_customers",
    "churned_customers",
    "won_back_customers",
    "customers_at_end",
    "churn_rate",
    "churn_rate_change",
)
_TEXT_COLUMNS = {
    "churn": _FLOW,
    "trend": _FLOW,
    "by": _FLOW,
    "reasons": ("churn_reason", "churn_type", "churned_customers"),
    "losses": ("churned_customers", "revenue_lost", "clv_lost"),
}
_HIDDEN = ("period_start", "period_end", "complete")


def report(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", help="The month to report, YYYY-MM.")],
    output_format: Annotated[
        str, typer.Option("--format", help="text (tables) or json (every figure).")
    ] = "text",
    as_of: Annotated[
        str,
        typer.Option(
            "--as-of",
            help="Measure with what was recorded before this date, YYYY-MM-DD (default: now).",
        ),
    ] = "",
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="Break churn down by these dimensions, comma-separated: segment, region, "
            "industry, product_line, owner_id, channel, tier, business_model.",
        ),
    ] = "segment,region,industry,product_line,owner_id,channel,tier",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead.")
    ] = None,
) -> None:
    """Churn rate per month, quarter and year, where churn comes from and what it cost."""
    from churnradar.analytics.dimensions import Dimension
    from churnradar.store.schema import require_current
    from churnradar.workflow.report import monthly_report

    command: CommandContext = ctx.obj
    if output_format not in ("text", "json"):
        raise InvalidInput("report.bad_format", value=output_format)
    dimensions = []
    for name in filter(None, (part.strip() for part in by.split(","))):
        try:
            dimensions.append(Dimension(name))
        except ValueError:
            raise InvalidInput(
                "report.bad_dimension", value=name, allowed=", ".join(Dimension)
            ) from None
    require_current(command.engine)
    with command.console.status(command.t("cli.report.measuring", month=month)):
        result = monthly_report(
            command.engine,
            command.settings,
            month=month,
            as_of=parse_as_of(as_of, command.settings.timezone),
            by=dimensions,
        )
    if output_format == "json":
        text = json.dumps(as_json(result), ensure_ascii=False, indent=2)
        if output:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            typer.echo(text)
        return
    if output:
        with output.open("w", encoding="utf-8") as handle:
            from rich.console import Console

            _print_text(command, result, Console(file=handle, width=120))
    else:
        _print_text(command, result, command.console)


def parse_as_of(text: str, timezone: str) -> datetime | None:
    """A --as-of date as the first instant of that day in the company's time zone."""
    if not text:
        return None
    from zoneinfo import ZoneInfo

    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise InvalidInput("report.bad_as_of", value=text) from None
    return day.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def as_json(result: MonthlyReport) -> dict[str, Any]:
    threshold = result.threshold
    return {
        "month": result.month.label,
        "as_of": result.as_of.isoformat(),
        "timezone": result.month.timezone,
        "definition": {
            "contract_grace_days": result.definition.contract_grace_days,
            "inactive_days": threshold.days,
            "inactive_days_by_segment": dict(threshold.by_segment),
            "inactive_days_derived": threshold.derived,
        },
        "sections": result.sections,
    }


def _print_text(command: CommandContext, result: MonthlyReport, console: Any) -> None:
    from churnradar.domain.metrics import METRICS

    locale = command.settings.locale
    units = {entry.slug: entry.unit.value for entry in METRICS}
    labels = {entry.slug: entry.label(locale) for entry in METRICS}
    threshold = result.threshold
    console.print(
        command.t(
            "cli.report.title",
            month=result.month.label,
            as_of=result.as_of.astimezone().strftime("%Y-%m-%d %H:%M"),
        ),
        style="bold",
    )
    by_segment = "，".join(f"{key} {value}" for key, value in sorted(threshold.by_segment.items()))
    console.print(
        command.t(
            "cli.report.definition",
            grace=result.definition.contract_grace_days,
            days=threshold.days,
            segments=by_segment or "-",
        )
    )
    for name, rows in result.sections.items():
        if not rows:
            continue
        columns = _text_columns(name, rows)
        table = Table(title=_section_title(command, name), title_justify="left")
        for column in columns:
            justify: JustifyMethod = "left" if column in _KEYS or column not in units else "right"
            table.add_column(labels.get(column, _column_label(command, column)), justify=justify)
        for row in rows:
            table.add_row(
                *(
                    _cell(_named(command, column, row.get(column)), units.get(column))
                    for column in columns
                )
            )
        console.print(table)


def _text_columns(section: str, rows: list[dict[str, Any]]) -> list[str]:
    """The group columns (a period only when it varies), then the section's figures."""
    figures = _TEXT_COLUMNS.get("by" if section.startswith("by_") else section)
    present = list(rows[0])
    groups = [
        column
        for column in present
        if column not in _HIDDEN
        and (figures is None or column not in figures)
        and not (column == "period" and len({row["period"] for row in rows}) == 1)
        and (figures is None or column in _KEYS or section.startswith("by_"))
    ]
    if figures is None:
        return groups
    return [*groups, *(column for column in figures if column in present)]


_ENUMS = {
    "churn_reason": "ReasonCode",
    "churn_type": "ChurnType",
    "business_model": "BusinessModel",
}


def _named(command: CommandContext, column: str, value: Any) -> Any:
    """A code shown as its label: price -> 价格."""
    if column in _ENUMS and isinstance(value, str):
        return command.t(f"enum.{_ENUMS[column]}.{value}")
    return value


def _section_title(command: CommandContext, name: str) -> str:
    if name.startswith("by_"):
        dimension = _column_label(command, name.removeprefix("by_"))
        return command.t("cli.report.section.by", dimension=dimension)
    return command.t(f"cli.report.section.{name}")


def _column_label(command: CommandContext, column: str) -> str:
    key = f"cli.report.column.{column}"
    text = command.t(key)
    return column if text == key else text


_FORMATS = {"rate": "{:.1%}", "money": "¥{:,.0f}", "hours": "{:,.1f}", "score": "{:,.1f}"}


def _cell(value: Any, unit: str | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    default = "{:,.2f}" if isinstance(value, float) else "{:,}"
    return _FORMATS.get(unit or "", default).format(value)
