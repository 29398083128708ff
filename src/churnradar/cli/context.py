"""What every command needs: settings, the locale to speak in, a console, an engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from rich.console import Console
from sqlalchemy import Engine

from churnradar.config import Settings, load_settings
from churnradar.i18n import translate
from churnradar.store.engine import check_reachable, make_engine


@dataclass
class CommandContext:
    debug: bool = False
    console: Console = field(default_factory=Console)

    @cached_property
    def settings(self) -> Settings:
        return load_settings()

    def t(self, key: str, /, **params: Any) -> str:
        return translate(key, self.settings.locale, **params)

    @cached_property
    def engine(self) -> Engine:
        engine = make_engine(self.settings.url)
        check_reachable(engine)
        return engine
