"""A job's stored return value, and a per-queue cap on its size.

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-12-02

The worker stores a job's JSON-serialisable return value here (``QueuedJob.result``); the
Pruner removes it with its job. NULL means no result was stored (the job returned None, opted
out, or its result could not be stored; the reason is then in ``meta["result_error"]``).
``queues.max_result_bytes`` caps the stored result of a queue's jobs (NULL: the app's
``Chancy(max_result_bytes=...)``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "core_0003"
down_revision = "core_0002"
branch_labels = None
depends_on = None


def upgrade(table_prefix: str) -> None:
    op.add_column(f"{table_prefix}jobs", sa.Column("result", pg.JSONB, nullable=True))
    op.add_column(f"{table_prefix}queues", sa.Column("max_result_bytes", sa.Integer, nullable=True))


def downgrade(table_prefix: str) -> None:
    op.drop_column(f"{table_prefix}queues", "max_result_bytes")
    op.drop_column(f"{table_prefix}jobs", "result")
