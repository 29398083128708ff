"""import batches keep the path of their rejected-rows file

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("import_batches", sa.Column("rejected_file", sa.String(500), nullable=True))


def downgrade() -> None:
    op.drop_column("import_batches", "rejected_file")
