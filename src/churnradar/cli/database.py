"""``churnradar init``: create or upgrade the application database."""

from __future__ import annotations

import typer

from churnradar.cli.context import CommandContext
from churnradar.store.engine import safe_url
from churnradar.store.schema import upgrade


def init(ctx: typer.Context) -> None:
    """Create the database schema, or upgrade it to this version. Safe to run again."""
    command: CommandContext = ctx.obj
    revision = upgrade(command.engine)
    # one line even when piped: Rich would otherwise break a long path at 80 columns
    command.console.print(
        command.t("cli.init.done", url=safe_url(command.engine.url), revision=revision),
        soft_wrap=True,
    )
