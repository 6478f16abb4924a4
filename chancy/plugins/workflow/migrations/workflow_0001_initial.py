"""WorkflowPlugin: workflows and workflow steps.

Revision ID: workflow_0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "workflow_0001"
down_revision = None
branch_labels = ("workflow",)
depends_on = "core_0002"

TZ = sa.DateTime(timezone=True)


def upgrade(table_prefix: str) -> None:
    workflows = f"{table_prefix}workflows"
    op.create_table(
        workflows,
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{workflows}")),
    )
    op.create_index(f"ix_{workflows}_state", workflows, ["state"])
    op.create_index(
        f"ix_{workflows}_active",
        workflows,
        ["id"],
        postgresql_where=sa.text("state IN ('pending', 'running')"),
    )

    steps = f"{table_prefix}workflow_steps"
    op.create_table(
        steps,
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("step_id", sa.Text(), nullable=False),
        sa.Column("job_data", pg.JSONB(), nullable=False),
        sa.Column("dependencies", pg.JSONB(), nullable=False),
        sa.Column("job_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", TZ, server_default=sa.func.now(), nullable=False),
        sa.Column("workflow_id", pg.UUID(as_uuid=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{steps}")),
        sa.UniqueConstraint("workflow_id", "step_id", name=op.f(f"uq_{steps}_step")),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            [f"{workflows}.id"],
            name=op.f(f"fk_{steps}_workflow"),
            ondelete="CASCADE",
        ),
    )


def downgrade(table_prefix: str) -> None:
    op.drop_table(f"{table_prefix}workflow_steps")
    op.drop_table(f"{table_prefix}workflows")
