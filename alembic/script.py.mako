"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


# Every name is built from table_prefix: tables are f"{table_prefix}jobs", and indexes and
# constraints are f"ix_{table_prefix}jobs_<what>" / op.f(f"pk_{table_prefix}jobs"), so two
# prefixes never collide. Autogenerate output names one prefix literally: rewrite it.
def upgrade(table_prefix: str) -> None:
    ${upgrades if upgrades else "pass"}


def downgrade(table_prefix: str) -> None:
    ${downgrades if downgrades else "pass"}
