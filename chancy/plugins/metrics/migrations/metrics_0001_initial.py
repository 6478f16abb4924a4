"""Metrics plugin: the bucketed metrics table.

Revision ID: metrics_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "metrics_0001"
down_revision = None
branch_labels = ("metrics",)
depends_on = "core_0002"

TZ = sa.DateTime(timezone=True)


def upgrade(table_prefix: str) -> None:
    metrics = f"{table_prefix}metrics"
    op.create_table(
        metrics,
        sa.Column("key", sa.Text(collation="C"), nullable=False),
        sa.Column("resolution", sa.String(10), nullable=False),
        sa.Column("bucket", TZ, nullable=False),
        sa.Column("metric_type", sa.String(20), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Double(), nullable=False),
        sa.Column("minimum", sa.Double(), nullable=True),
        sa.Column("maximum", sa.Double(), nullable=True),
        sa.Column("last", sa.Double(), nullable=True),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("key", "resolution", "bucket", name=op.f(f"pk_{metrics}")),
    )
    op.create_index(f"ix_{metrics}_expiry", metrics, ["resolution", "bucket"])


def downgrade(table_prefix: str) -> None:
    op.drop_table(f"{table_prefix}metrics")
