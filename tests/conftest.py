"""Shared fixtures: a freshly migrated database per test, on SQLite and on a real PostgreSQL.

PostgreSQL is a throwaway cluster started once per session from the machine's binaries. If
it cannot start, every PostgreSQL test errors (never skips): the store must work on both.
Each test gets its own database, cloned from a migrated template, so tests stay independent.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url

from churnradar.store.engine import make_engine
from churnradar.store.schema import upgrade
from support.postgres import throwaway_cluster

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[URL]:
    with throwaway_cluster() as url:
        server = make_url(url)
        template = server.set(database="churnradar_template")
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE churnradar_template"))
        migrated = make_engine(template)
        upgrade(migrated)
        migrated.dispose()
        admin.dispose()
        yield server


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(make_url(f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()
    return path


def _postgres_database(server: URL) -> Iterator[Engine]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name} TEMPLATE churnradar_template"))
    engine = make_engine(server.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def _sqlite_database(template: Path, folder: Path) -> Iterator[Engine]:
    path = folder / "churnradar.db"
    shutil.copyfile(template, path)
    engine = make_engine(make_url(f"sqlite:///{path}"))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty application database on each backend."""
    if request.param == "postgresql":
        yield from _postgres_database(request.getfixturevalue("postgres_server"))
    else:
        yield from _sqlite_database(request.getfixturevalue("sqlite_template"), tmp_path)


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    yield from _sqlite_database(sqlite_template, tmp_path)


@pytest.fixture
def postgres_engine(postgres_server: URL) -> Iterator[Engine]:
    yield from _postgres_database(postgres_server)
