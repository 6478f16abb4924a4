"""Core tables: jobs, queues, workers, leader, queue rate limits.

Revision ID: core_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade(table_prefix: str) -> None:
    jobs = f"{table_prefix}jobs"
    op.create_table(
        jobs,
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("queue", sa.Text(), nullable=False),
        sa.Column("func", sa.Text(), nullable=False),
        sa.Column("kwargs", pg.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("limits", pg.JSONB(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("meta", pg.JSONB(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("state", sa.String(25), server_default="pending", nullable=False),
        sa.Column("priority", sa.Integer(), server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="1", nullable=False),
        sa.Column("taken_by", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("completed_at", TZ, nullable=True),
        sa.Column("scheduled_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("unique_key", sa.Text(), nullable=True),
        sa.Column("errors", pg.JSONB(), server_default=sa.text("'[]'"), nullable=False),
        sa.Column("claim_id", pg.UUID(as_uuid=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{jobs}")),
        # A queue table is updated in place constantly: leave room on each page for HOT
        # updates and vacuum it far more eagerly than the defaults.
        postgresql_with={
            "fillfactor": "70",
            "autovacuum_vacuum_scale_factor": "0.02",
            "autovacuum_analyze_scale_factor": "0.02",
            "autovacuum_vacuum_cost_delay": "1",
        },
    )

    queues = f"{table_prefix}queues"
    op.create_table(
        queues,
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), server_default="active", nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=True),
        sa.Column("tags", pg.ARRAY(sa.Text()), nullable=True),
        sa.Column(
            "executor",
            sa.Text(),
            server_default="chancy.executors.process.ProcessExecutor",
            nullable=False,
        ),
        sa.Column("executor_options", pg.JSONB(), nullable=True),
        sa.Column("polling_interval", sa.Float(), server_default="5", nullable=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("rate_limit_window", sa.Integer(), nullable=True),
        sa.Column("resume_at", TZ, nullable=True),
        sa.Column("eager_polling", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f(f"pk_{queues}")),
    )

    # Ephemeral state: UNLOGGED tables are faster and are emptied after a crash,
    # which only costs a re-announce and a re-election.
    workers = f"{table_prefix}workers"
    op.create_table(
        workers,
        sa.Column("worker_id", sa.Text(), nullable=False),
        sa.Column("tags", pg.ARRAY(sa.Text()), nullable=True),
        sa.Column("queues", pg.ARRAY(sa.Text()), nullable=True),
        sa.Column("last_seen", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f(f"pk_{workers}")),
        prefixes=["UNLOGGED"],
    )
    leader = f"{table_prefix}leader"
    op.create_table(
        leader,
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("worker_id", sa.Text(), nullable=False),
        sa.Column("first_seen", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{leader}")),
        sa.UniqueConstraint("worker_id", name=op.f(f"uq_{leader}_worker_id")),
        prefixes=["UNLOGGED"],
    )
    limits = f"{table_prefix}queue_rate_limits"
    op.create_table(
        limits,
        sa.Column("queue", sa.String(255), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("queue", name=op.f(f"pk_{limits}")),
        prefixes=["UNLOGGED"],
    )


def downgrade(table_prefix: str) -> None:
    for stem in ("queue_rate_limits", "leader", "workers", "queues", "jobs"):
        op.drop_table(f"{table_prefix}{stem}")
