"""Settings, read from ``CHURNRADAR_*`` environment variables or a ``.env`` file.

``load_settings()`` is the one entry point: it turns pydantic's validation errors into a
:class:`ConfigurationError` whose message names the variable and what to do.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from churnradar.errors import ConfigurationError
from churnradar.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, LocalisedText, normalise_locale

SUPPORTED_DRIVERS = ("sqlite", "postgresql")


class LocaleError(ValueError):
    pass


class TimezoneError(ValueError):
    pass


class DatabaseUrlError(ValueError):
    """Carries the catalogue key of the reason, so the message is localised whole."""


class CurrencyError(ValueError):
    pass


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CHURNRADAR_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Path("data")
    """Where the SQLite file, the Parquet mirror and the demo simulation state live."""

    database_url: str = ""
    """SQLAlchemy URL; empty means ``sqlite:///<data_dir>/churnradar.db`` (WAL mode)."""

    timezone: str = "Asia/Shanghai"
    currency: str = "CNY"
    locale: str = DEFAULT_LOCALE

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        resolved = normalise_locale(value)
        if resolved is None:
            raise LocaleError(value)
        return resolved

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise TimezoneError(value) from exc
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z]{3}", value):
            raise CurrencyError(value)
        return value.upper()

    @field_validator("database_url")
    @classmethod
    def _understood_url(cls, value: str) -> str:
        if not value:
            return value
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise DatabaseUrlError("config.url_not_a_url") from exc
        if url.get_backend_name() not in SUPPORTED_DRIVERS:
            raise DatabaseUrlError("config.url_unsupported")
        if url.get_backend_name() == "postgresql" and url.get_driver_name() != "psycopg":
            raise DatabaseUrlError("config.url_driver")
        return value

    @cached_property
    def url(self) -> URL:
        """The database URL, with the default SQLite file and psycopg 3 as the PG driver."""
        if not self.database_url:
            return make_url(f"sqlite:///{(self.data_dir / 'churnradar.db').as_posix()}")
        url = make_url(self.database_url)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        return url

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def mirror_dir(self) -> Path:
        return self.data_dir / "mirror"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise one :class:`ConfigurationError` that says what to fix."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise _configuration_error(exc) from None


def _configuration_error(exc: ValidationError) -> ConfigurationError:
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "?"
    value = first.get("input")
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, LocaleError):
        return ConfigurationError(
            "config.unknown_locale", value=value, supported=", ".join(SUPPORTED_LOCALES)
        )
    if isinstance(cause, TimezoneError):
        return ConfigurationError("config.unknown_timezone", value=value)
    if isinstance(cause, DatabaseUrlError):
        return ConfigurationError(
            "config.bad_database_url",
            url=_without_password(value),
            reason=LocalisedText(str(cause), supported=", ".join(SUPPORTED_DRIVERS)),
        )
    if isinstance(cause, CurrencyError):
        return ConfigurationError("config.bad_currency", value=value)
    return ConfigurationError(
        "config.invalid_setting",
        name=name,
        env=name.upper(),
        value=value,
        reason=first["msg"],
    )


def _without_password(value: Any) -> Any:
    """A refused URL is shown to say which one; its password must not reach the terminal."""
    try:
        return make_url(value).render_as_string(hide_password=True)
    except ArgumentError:
        return value


def fallback_locale() -> str:
    """The locale to speak in when the settings themselves could not be read."""
    for variable in ("CHURNRADAR_LOCALE", "LC_ALL", "LC_MESSAGES", "LANG"):
        resolved = normalise_locale(os.environ.get(variable, "").split(".")[0])
        if resolved:
            return resolved
    return DEFAULT_LOCALE
