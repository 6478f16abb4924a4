"""What every chancy Alembic environment runs, the shipped one and the developer CLI's."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from chancy.db.models import build_models
from chancy.db.statements.locks import migration_lock


def run_env(
    context: Any,
    prefix: str | None = None,
    connection: Any = None,
    url: str | None = None,
    *,
    target_metadata: sa.MetaData | None = None,
) -> None:
    """Configure ``context`` for one prefix and run the migrations.

    The first statement of the transaction takes an advisory lock keyed by the prefix,
    so two processes migrating the same prefix run one after the other, while other
    prefixes migrate freely. In offline mode (``alembic --sql``) the same statements,
    lock included, are printed for ``url``'s dialect instead of run.

    The target metadata gives unnamed constraints their prefixed names; it defaults to
    the core tables'. The developer CLI passes every bundled plugin's tables
    (:func:`chancy.plugins.tables.full_metadata`) so autogenerate sees every branch; the
    shipped environment doesn't, so migrating never registers models of plugins an app
    hasn't enabled.
    """
    attributes = context.config.attributes
    prefix = prefix or attributes.get("table_prefix") or "chancy_"
    connection = connection or attributes.get("connection")
    options: dict[str, Any] = {
        "target_metadata": target_metadata or build_models(prefix).metadata,
        "version_table": f"{prefix}alembic_version",
        "transactional_ddl": True,
    }
    if context.is_offline_mode():
        context.configure(url=url or "postgresql://", literal_binds=True, **options)
    elif connection is None:
        raise RuntimeError(
            "chancy migrations need a connection: use chancy.migrations.Migrator or "
            "Chancy.migrate() rather than calling the shipped env.py directly."
        )
    else:
        context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.execute(migration_lock(prefix))
        context.run_migrations(table_prefix=prefix)


def make_connection(url: str) -> sa.engine.Connection:
    """A connection for the developer CLI (``alembic -x url=...``)."""
    return sa.create_engine(url, poolclass=sa.pool.NullPool).connect()
