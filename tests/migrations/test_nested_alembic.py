"""Running chancy's migrations inside another Alembic command (an application's env.py)."""

from __future__ import annotations

from collections.abc import Callable

import alembic.context
import alembic.op
import pytest
import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext

from chancy.errors import MigrationError
from chancy.migrations import Migrator, run_chancy_migrations
from tests.migrations.helpers import leftovers


def test_the_outer_context_survives_a_nested_run(
    engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    prefix = new_prefix()
    outer_config = Config()
    # Stands in for the application's own environment, as `alembic upgrade` sets it up.
    with EnvironmentContext(outer_config, Migrator(prefix).script) as outer:
        with engine.begin() as conn:
            run_chancy_migrations(conn, prefix=prefix)
            assert alembic.context.config is outer_config
            assert alembic.context._proxy is outer

            with pytest.raises(MigrationError, match="nosuch@head"):
                run_chancy_migrations(conn, prefix=prefix, target="nosuch@head")
            assert alembic.context._proxy is outer
            assert alembic.op._proxy is None
    # Leaving the outer context worked too (it used to fail with KeyError: 'script').
    assert alembic.context._proxy is None

    with engine.connect() as conn:
        assert Migrator(prefix).is_up_to_date(conn)
    with engine.begin() as conn:
        run_chancy_migrations(conn, prefix=prefix, target="base")
    with engine.connect() as conn:
        assert leftovers(conn, prefix) == set()


def test_a_failed_nested_run_rolls_back_with_the_outer_transaction(
    engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    """Inside the caller's transaction, chancy's DDL is undone with the caller's work."""
    prefix = new_prefix()
    with pytest.raises(RuntimeError, match="the application's own migration failed"):
        with engine.begin() as conn:
            run_chancy_migrations(conn, prefix=prefix)
            raise RuntimeError("the application's own migration failed")
    with engine.connect() as conn:
        assert leftovers(conn, prefix) == set()
