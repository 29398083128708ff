from __future__ import annotations

from sqlalchemy import Engine, inspect

from churnradar.store.schema import current_revision, head_revision, upgrade
from churnradar.store.tables import metadata


class TestUpgrade:
    def test_creates_every_table_of_the_model(self, engine: Engine) -> None:
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())

    def test_is_at_head_and_idempotent(self, engine: Engine) -> None:
        assert current_revision(engine) == head_revision(engine)
        assert upgrade(engine) == head_revision(engine)
