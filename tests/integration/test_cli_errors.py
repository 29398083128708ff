"""The installed ``churnradar`` command: ``init`` works, and every expected failure is one
localised line on stderr with exit code 2, never a traceback (unless ``--debug``)."""

from __future__ import annotations

import re
import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from churnradar.store.engine import make_engine
from churnradar.store.schema import current_revision, head_revision
from support.cli import churnradar

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def closed_port() -> int:
    """A loopback port nobody listens on: bound once to find it free, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def the_one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("churnradar: "), lines[0]
    assert "\x1b[" not in lines[0]  # no terminal colour codes in a pipe
    return lines[0]


def assert_chinese(line: str, *fragments: str) -> None:
    assert CHINESE.search(line), line
    for fragment in fragments:
        assert fragment in line, line


def assert_english(line: str, *fragments: str) -> None:
    assert not CHINESE.search(line), line
    for fragment in fragments:
        assert fragment in line, line


class TestInit:
    def test_creates_the_database_and_prints_the_revision(self, tmp_path: Path) -> None:
        result = churnradar(tmp_path, "init")

        assert result.returncode == 0, result.stderr
        database = tmp_path / "data" / "churnradar.db"
        assert database.is_file()
        engine = make_engine(make_url(f"sqlite:///{database}"))
        try:
            head = head_revision(engine)
            assert current_revision(engine) == head
        finally:
            engine.dispose()
        assert result.stderr == ""
        assert result.stdout.splitlines() == [
            f"数据库已就绪：sqlite:///{database}（表结构版本 {head}）。"
        ]

    def test_speaks_english_when_asked(self, tmp_path: Path) -> None:
        result = churnradar(tmp_path, "init", CHURNRADAR_LOCALE="en")

        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Database ready at sqlite:///")

    def test_running_it_twice_is_fine(self, tmp_path: Path) -> None:
        first = churnradar(tmp_path, "init")
        second = churnradar(tmp_path, "init")

        assert (first.returncode, second.returncode) == (0, 0), second.stderr
        assert second.stdout == first.stdout
        assert second.stderr == ""


class TestUnknownLocale:
    """The locale itself is broken, so the line is in the language LANG asks for."""

    def test_is_one_chinese_line_by_default(self, tmp_path: Path) -> None:
        result = churnradar(tmp_path, "init", CHURNRADAR_LOCALE="fr")

        assert_chinese(the_one_error_line(result), "CHURNRADAR_LOCALE", "'fr'", "不受支持")

    def test_is_one_english_line_under_an_english_lang(self, tmp_path: Path) -> None:
        result = churnradar(tmp_path, "init", CHURNRADAR_LOCALE="fr", LANG="en_US.UTF-8")

        assert_english(
            the_one_error_line(result), "CHURNRADAR_LOCALE", "'fr'", "Unknown locale", "zh-CN, en"
        )

    def test_text_that_looks_like_markup_is_printed_as_it_is(self, tmp_path: Path) -> None:
        result = churnradar(tmp_path, "init", CHURNRADAR_LOCALE="[/bold]")

        assert "'[/bold]'" in the_one_error_line(result)


class TestUnreachableDatabase:
    @pytest.fixture
    def url(self) -> str:
        return f"postgresql://churn:s3cr3t@127.0.0.1:{closed_port()}/churn"

    def test_is_one_chinese_line_by_default(self, tmp_path: Path, url: str) -> None:
        result = churnradar(tmp_path, "init", CHURNRADAR_DATABASE_URL=url)

        line = the_one_error_line(result)
        assert_chinese(line, "无法连接数据库", "127.0.0.1", "CHURNRADAR_DATABASE_URL")
        assert "s3cr3t" not in line

    def test_is_one_english_line_in_english(self, tmp_path: Path, url: str) -> None:
        result = churnradar(tmp_path, "init", CHURNRADAR_DATABASE_URL=url, CHURNRADAR_LOCALE="en")

        line = the_one_error_line(result)
        assert_english(line, "Cannot reach the database at", "CHURNRADAR_DATABASE_URL")
        assert "s3cr3t" not in line


class TestUnsupportedDatabaseUrl:
    URL = "mysql://churn:s3cr3t@db.example.cn/churn"

    def test_is_one_chinese_line_by_default(self, tmp_path: Path) -> None:
        result = churnradar(tmp_path, "init", CHURNRADAR_DATABASE_URL=self.URL)

        line = the_one_error_line(result)
        assert_chinese(line, "CHURNRADAR_DATABASE_URL", "不是可用的数据库地址", "mysql://")
        assert "s3cr3t" not in line

    def test_is_one_english_line_in_english(self, tmp_path: Path) -> None:
        result = churnradar(
            tmp_path, "init", CHURNRADAR_DATABASE_URL=self.URL, CHURNRADAR_LOCALE="en"
        )

        line = the_one_error_line(result)
        assert_english(line, "CHURNRADAR_DATABASE_URL", "is not a database URL", "mysql://")
        assert "s3cr3t" not in line

    def test_nothing_is_created(self, tmp_path: Path) -> None:
        churnradar(tmp_path, "init", CHURNRADAR_DATABASE_URL=self.URL)

        assert not (tmp_path / "data").exists()


class TestDebug:
    def test_shows_the_traceback(self, tmp_path: Path) -> None:
        result = churnradar(
            tmp_path, "--debug", "init", CHURNRADAR_DATABASE_URL="mysql://db.example.cn/churn"
        )

        assert result.returncode != 0
        assert "Traceback (most recent call last)" in result.stderr
        assert "churnradar.errors.ConfigurationError" in result.stderr
