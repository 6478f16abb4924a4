"""Cron plugin: the schedules table (with the 0.26 timezone column from the start).

Revision ID: cron_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "cron_0001"
down_revision = None
branch_labels = ("cron",)
# The pushed jobs rely on the unique-key index that core_0002 creates.
depends_on = "core_0002"

TZ = sa.DateTime(timezone=True)


def upgrade(table_prefix: str) -> None:
    cron = f"{table_prefix}cron"
    op.create_table(
        cron,
        sa.Column("unique_key", sa.Text(), nullable=False),
        sa.Column("job", pg.JSONB(), nullable=False),
        sa.Column("cron", sa.Text(), nullable=False),
        sa.Column("last_run", TZ, nullable=True),
        sa.Column("next_run", TZ, nullable=False),
        sa.Column("timezone", sa.Text(), server_default="Etc/UTC", nullable=False),
        sa.PrimaryKeyConstraint("unique_key", name=op.f(f"pk_{cron}")),
    )
    op.create_index(f"ix_{cron}_next_run", cron, ["next_run"])


def downgrade(table_prefix: str) -> None:
    op.drop_table(f"{table_prefix}cron")
