"""Settings: defaults, ``CHURNRADAR_*`` overrides, and one clear error per bad value."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from churnradar.config import Settings, fallback_locale, load_settings
from churnradar.errors import ConfigurationError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No CHURNRADAR_* or locale variables from the machine, and no stray .env file."""
    for name in list(os.environ):
        if name.startswith("CHURNRADAR_") or name in {"LC_ALL", "LC_MESSAGES", "LANG"}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def refusal(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> ConfigurationError:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    return raised.value


class TestDefaults:
    def test_a_sqlite_file_under_the_data_dir(self) -> None:
        settings = load_settings()

        assert settings.database_url == ""
        assert settings.url.get_backend_name() == "sqlite"
        assert Path(str(settings.url.database)) == Path("data") / "churnradar.db"
        assert settings.mirror_dir == Path("data") / "mirror"

    def test_china_first(self) -> None:
        settings = load_settings()

        assert settings.timezone == "Asia/Shanghai"
        assert settings.zone == ZoneInfo("Asia/Shanghai")
        assert settings.currency == "CNY"
        assert settings.locale == "zh-CN"


class TestEnvironmentOverrides:
    def test_every_setting_can_be_set(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("CHURNRADAR_DATA_DIR", str(tmp_path / "elsewhere"))
        monkeypatch.setenv("CHURNRADAR_TIMEZONE", "Europe/Berlin")
        monkeypatch.setenv("CHURNRADAR_CURRENCY", "usd")
        monkeypatch.setenv("CHURNRADAR_LOCALE", "en")

        settings = load_settings()

        assert settings.data_dir == tmp_path / "elsewhere"
        assert settings.url.database == str(tmp_path / "elsewhere" / "churnradar.db")
        assert settings.zone == ZoneInfo("Europe/Berlin")
        assert settings.currency == "USD"
        assert settings.locale == "en"

    def test_a_database_url_replaces_the_sqlite_default(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.setenv("CHURNRADAR_DATABASE_URL", f"sqlite:///{tmp_path}/other.db")

        assert load_settings().url.database == f"{tmp_path}/other.db"

    def test_a_dotenv_file_in_the_working_directory_is_read(self, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("CHURNRADAR_LOCALE=en\n", encoding="utf-8")

        assert load_settings().locale == "en"

    def test_the_environment_beats_the_dotenv_file(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        (tmp_path / ".env").write_text("CHURNRADAR_LOCALE=en\n", encoding="utf-8")
        monkeypatch.setenv("CHURNRADAR_LOCALE", "zh")

        assert load_settings().locale == "zh-CN"


class TestDatabaseUrl:
    def test_a_plain_postgresql_url_gets_the_psycopg_driver(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(
            "CHURNRADAR_DATABASE_URL", "postgresql://app:secret@db.example.cn:5432/churn"
        )

        url = load_settings().url

        assert url.drivername == "postgresql+psycopg"
        assert (url.username, url.password, url.host, url.port, url.database) == (
            "app",
            "secret",
            "db.example.cn",
            5432,
            "churn",
        )

    def test_an_explicit_driver_is_kept(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CHURNRADAR_DATABASE_URL", "postgresql+psycopg://app@db/churn")

        assert load_settings().url.drivername == "postgresql+psycopg"


class TestLocaleNormalisation:
    @pytest.mark.parametrize(
        ("written", "resolved"),
        [
            ("zh-CN", "zh-CN"),
            ("zh_CN", "zh-CN"),
            ("zh", "zh-CN"),
            ("zh-cn", "zh-CN"),
            ("en", "en"),
            ("en-US", "en"),
            ("en_GB", "en"),
            ("EN", "en"),
        ],
    )
    def test_what_people_write_is_understood(
        self, monkeypatch: pytest.MonkeyPatch, written: str, resolved: str
    ) -> None:
        monkeypatch.setenv("CHURNRADAR_LOCALE", written)

        assert load_settings().locale == resolved


class TestRefusals:
    """Each bad value is one ConfigurationError that names the variable in both languages."""

    @pytest.mark.parametrize(
        ("variable", "value", "key"),
        [
            ("CHURNRADAR_LOCALE", "fr", "config.unknown_locale"),
            ("CHURNRADAR_TIMEZONE", "Asia/Beijing", "config.unknown_timezone"),
            ("CHURNRADAR_DATABASE_URL", "mysql://app@db/churn", "config.bad_database_url"),
            ("CHURNRADAR_DATABASE_URL", "not a url at all", "config.bad_database_url"),
            (
                "CHURNRADAR_DATABASE_URL",
                "postgresql+asyncpg://app@db/churn",
                "config.bad_database_url",
            ),
            ("CHURNRADAR_CURRENCY", "RMB1", "config.bad_currency"),
            ("CHURNRADAR_CURRENCY", "¥", "config.bad_currency"),
        ],
    )
    def test_names_the_variable_and_the_value(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, key: str
    ) -> None:
        error = refusal(monkeypatch, variable, value)

        assert error.key == key
        for locale in ("zh-CN", "en"):
            message = error.render(locale)
            assert variable in message, message
            assert value in message, message
            assert "{" not in message, message  # every placeholder was filled

    def test_speaks_chinese_or_english(self, monkeypatch: pytest.MonkeyPatch) -> None:
        error = refusal(monkeypatch, "CHURNRADAR_TIMEZONE", "Asia/Beijing")

        assert "时区" in error.render("zh-CN")
        assert "time zone" in error.render("en")
        assert str(error) == error.render("en")

    def test_the_reason_inside_a_message_is_translated_too(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        error = refusal(monkeypatch, "CHURNRADAR_DATABASE_URL", "mysql://app@db/churn")

        assert "支持的数据库：sqlite, postgresql" in error.render("zh-CN")
        assert "supported" not in error.render("zh-CN")
        assert "supported databases: sqlite, postgresql" in error.render("en")

    def test_the_locale_message_lists_the_supported_locales(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        error = refusal(monkeypatch, "CHURNRADAR_LOCALE", "fr")

        assert "zh-CN, en" in error.render("en")

    def test_a_refused_url_does_not_show_its_password(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        error = refusal(monkeypatch, "CHURNRADAR_DATABASE_URL", "mysql://app:s3cr3t@db/churn")

        for locale in ("zh-CN", "en"):
            message = error.render(locale)
            assert "s3cr3t" not in message
            assert "mysql://app:***@db/churn" in message

    def test_postgres_without_ql_is_refused_with_the_supported_names(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        error = refusal(monkeypatch, "CHURNRADAR_DATABASE_URL", "postgres://app@db/churn")

        assert "sqlite, postgresql" in error.render("en")

    def test_validation_details_do_not_leak(self, monkeypatch: pytest.MonkeyPatch) -> None:
        error = refusal(monkeypatch, "CHURNRADAR_LOCALE", "fr")

        assert error.__cause__ is None
        assert error.__suppress_context__

    def test_settings_built_directly_still_validate(self) -> None:
        with pytest.raises(ValueError, match="locale"):
            Settings(locale="fr")


class TestFallbackLocale:
    """The language of the one error line when the settings themselves cannot be read."""

    def test_chinese_without_any_hint(self) -> None:
        assert fallback_locale() == "zh-CN"

    @pytest.mark.parametrize(
        ("variable", "value", "expected"),
        [
            ("LANG", "en_US.UTF-8", "en"),
            ("LANG", "zh_CN.UTF-8", "zh-CN"),
            ("LANG", "C.UTF-8", "zh-CN"),
            ("LC_MESSAGES", "en_GB.UTF-8", "en"),
            ("LC_ALL", "en_US", "en"),
            ("CHURNRADAR_LOCALE", "en", "en"),
        ],
    )
    def test_reads_the_usual_variables(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
    ) -> None:
        monkeypatch.setenv(variable, value)

        assert fallback_locale() == expected

    def test_a_bad_churnradar_locale_falls_through_to_lang(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("CHURNRADAR_LOCALE", "fr")
        monkeypatch.setenv("LANG", "en_US.UTF-8")

        assert fallback_locale() == "en"

    def test_churnradar_locale_comes_first(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("CHURNRADAR_LOCALE", "zh")
        monkeypatch.setenv("LC_ALL", "en_US.UTF-8")

        assert fallback_locale() == "zh-CN"
