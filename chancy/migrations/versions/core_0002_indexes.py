"""Indexes made for the claim path, unique keys, admin listings and recovery.

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None

INDEXES = ("fetch", "unique_key", "queue_state", "state_completed_at", "running")


def upgrade(table_prefix: str) -> None:
    jobs = f"{table_prefix}jobs"
    op.create_index(
        f"ix_{jobs}_fetch",
        jobs,
        ["queue", sa.text("priority DESC"), "id"],
        postgresql_where=sa.text("state IN ('pending', 'retrying')"),
    )
    op.create_index(
        f"ix_{jobs}_unique_key",
        jobs,
        ["unique_key"],
        unique=True,
        postgresql_where=sa.text(
            "unique_key IS NOT NULL AND state IN ('pending', 'running', 'retrying')"
        ),
    )
    op.create_index(f"ix_{jobs}_queue_state", jobs, ["queue", "state"])
    op.create_index(f"ix_{jobs}_state_completed_at", jobs, ["state", "completed_at"])
    op.create_index(
        f"ix_{jobs}_running", jobs, ["taken_by"], postgresql_where=sa.text("state = 'running'")
    )


def downgrade(table_prefix: str) -> None:
    for name in INDEXES:
        op.drop_index(f"ix_{table_prefix}jobs_{name}", table_name=f"{table_prefix}jobs")
