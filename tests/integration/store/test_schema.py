from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from churnradar.store.schema import alembic_config, current_revision, head_revision, upgrade
from churnradar.store.tables import metadata


class TestUpgrade:
    def test_creates_every_table_of_the_model(self, engine: Engine) -> None:
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())

    def test_is_at_head_and_idempotent(self, engine: Engine) -> None:
        assert current_revision(engine) == head_revision(engine)
        assert upgrade(engine) == head_revision(engine)

    def test_the_migrated_schema_is_exactly_the_models(self, engine: Engine) -> None:
        """Columns, types, nullability, indexes, unique and foreign keys all match."""
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []

    def test_every_foreign_key_of_the_model_exists(self, engine: Engine) -> None:
        inspector = inspect(engine)
        for table in metadata.sorted_tables:
            stored = {
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table.name)
            }
            for fk in table.foreign_key_constraints:
                key = (tuple(fk.column_keys), fk.referred_table.name)
                assert key in stored, f"{table.name}: missing foreign key {key}"


class TestDowngrade:
    def test_goes_back_to_an_empty_database_and_up_again(self, engine: Engine) -> None:
        config = alembic_config(engine)
        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert upgrade(engine) == head_revision(engine)
