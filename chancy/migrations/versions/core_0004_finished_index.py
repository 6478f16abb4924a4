"""The ``(state, completed_at)`` index holds finished jobs only.

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-12-02

Every reader of this index (the Pruner, the Api's Prometheus queries) asks for succeeded or
failed jobs. Made partial, it no longer takes an entry for each push, claim and retry:
a claim updates a row out of ``pending`` (a non-HOT update, so every index whose predicate
the new row matches gets an entry), and this was one of the four. Measured on 5,000,000
finished rows, a claim of 100 touched 16-18% fewer buffers and wrote 17-33% less WAL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "core_0004"
down_revision = "core_0003"
branch_labels = None
depends_on = None


def upgrade(table_prefix: str) -> None:
    _replace(table_prefix, sa.text("state IN ('succeeded', 'failed')"))


def downgrade(table_prefix: str) -> None:
    _replace(table_prefix, None)


def _replace(table_prefix: str, where: sa.TextClause | None) -> None:
    jobs = f"{table_prefix}jobs"
    name = f"ix_{jobs}_state_completed_at"
    op.drop_index(name, table_name=jobs)
    op.create_index(name, jobs, ["state", "completed_at"], postgresql_where=where)
