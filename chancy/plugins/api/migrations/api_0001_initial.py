"""Api plugin: the revoked bearer tokens table.

Revision ID: api_0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "api_0001"
down_revision = None
branch_labels = ("api",)
# Like the other plugin branches, it sits on the indexed core schema.
depends_on = "core_0002"

TZ = sa.DateTime(timezone=True)


def upgrade(table_prefix: str) -> None:
    table = f"{table_prefix}api_revoked_tokens"
    op.create_table(
        table,
        sa.Column("token_id", sa.Text(), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("token_id", name=op.f(f"pk_{table}")),
    )
    op.create_index(f"ix_{table}_expires_at", table, ["expires_at"])


def downgrade(table_prefix: str) -> None:
    op.drop_table(f"{table_prefix}api_revoked_tokens")
