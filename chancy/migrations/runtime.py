"""What every chancy Alembic environment runs, the shipped one and the developer CLI's."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from chancy.db.models import build_models
from chancy.db.statements.locks import migration_lock


def run_env(context: Any, prefix: str | None = None, connection: Any = None) -> None:
    """Configure ``context`` for one prefix and run the migrations.

    The first statement of the transaction takes an advisory lock keyed by the prefix,
    so two processes migrating the same prefix run one after the other, while other
    prefixes migrate freely.
    """
    attributes = context.config.attributes
    prefix = prefix or attributes.get("table_prefix") or "chancy_"
    connection = connection or attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "chancy migrations need a connection: use chancy.migrations.Migrator or "
            "Chancy.migrate() rather than calling the shipped env.py directly."
        )
    context.configure(
        connection=connection,
        target_metadata=build_models(prefix).metadata,
        version_table=f"{prefix}alembic_version",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        connection.execute(migration_lock(prefix))
        context.run_migrations(table_prefix=prefix)


def make_connection(url: str) -> sa.engine.Connection:
    """A connection for the developer CLI (``alembic -x url=...``)."""
    return sa.create_engine(url, poolclass=sa.pool.NullPool).connect()
