"""The application's Alembic environment: its own revisions, then chancy's, in one transaction.

Settings, each from ``-x name=value`` or else the environment variable:

- ``url`` / ``DATABASE_URL``: the database (default: ``sqlalchemy.url`` in alembic.ini);
- ``chancy_prefix`` / ``CHANCY_PREFIX``: chancy's table prefix (default ``chancy_``);
- ``chancy_target`` / ``CHANCY_TARGET``: where chancy's tables go (default ``heads``;
  ``base`` removes them all, e.g. ``alembic -x chancy_target=base downgrade base``).
"""

from __future__ import annotations

import os
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context

from chancy.migrations import run_chancy_migrations

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name)

x = context.get_x_argument(as_dictionary=True)
URL = x.get("url") or os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
CHANCY_PREFIX = x.get("chancy_prefix") or os.environ.get("CHANCY_PREFIX") or "chancy_"
CHANCY_TARGET = x.get("chancy_target") or os.environ.get("CHANCY_TARGET") or "heads"

# Your models' MetaData, for autogenerate (this sample has no models module).
target_metadata = None


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Hide chancy's tables from autogenerate: chancy's own revisions manage them."""
    return not (type_ == "table" and (name or "").startswith(CHANCY_PREFIX))


def run_migrations_offline() -> None:
    # Offline SQL covers this project's revisions only: chancy's helper needs a connection.
    context.configure(url=URL, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = sa.create_engine(URL, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_name=include_name
        )
        with context.begin_transaction():
            context.run_migrations()
            # Same connection, same transaction: both schemas commit or roll back together.
            # Chancy records its versions in its own table, {prefix}alembic_version.
            run_chancy_migrations(connection, prefix=CHANCY_PREFIX, target=CHANCY_TARGET)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
