"""Creating and upgrading the schema with Alembic, without an alembic.ini."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from churnradar.errors import ConfigurationError
from churnradar.store.engine import safe_url


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("churnradar.store").joinpath("migrations"))
    )
    config.attributes["engine"] = engine
    return config


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None, "the migrations folder has no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Bring the database to the newest schema; safe to run again. Returns the revision."""
    command.upgrade(alembic_config(engine), "head")
    return head_revision(engine)


def require_current(engine: Engine) -> None:
    """Refuse to work on a database that was not initialised or is behind the code."""
    current, head = current_revision(engine), head_revision(engine)
    if current is None:
        raise ConfigurationError("store.not_initialised", url=safe_url(engine.url))
    if current != head:
        raise ConfigurationError(
            "store.outdated", url=safe_url(engine.url), current=current, head=head
        )
