"""examples/alembic_integration: one ``alembic upgrade head`` migrates the app and chancy.

Runs the example's own Alembic project as a user would (the venv's ``alembic``, from the
example's folder) in a throwaway Postgres schema, with a random chancy prefix.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from chancy.db.engine import to_url
from chancy.migrations import Migrator
from chancy.testing import random_prefix

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "alembic_integration"
USER_REVISION = "a1f0c3d2e4b5"
CHANCY_STEMS = {"jobs", "queues", "workers", "leader", "queue_rate_limits", "alembic_version"}

pytestmark = pytest.mark.slow


@pytest.fixture
def schema_url(dsn: str) -> Iterator[sa.URL]:
    """A URL whose search_path is a fresh schema, dropped (with all it holds) afterwards.

    The example's own names (``exampleapp_users``, ``alembic_version``) are fixed, as in a
    real project, so a schema of its own keeps concurrent test runs apart.
    """
    schema = f"ex_{secrets.token_hex(4)}"
    admin = sa.create_engine(to_url(dsn), poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        yield to_url(dsn).update_query_dict({"options": f"-csearch_path={schema}"})
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def alembic(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("alembic")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "alembic"]
    return subprocess.run(
        [*cmd, *args],
        cwd=EXAMPLE,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"{' '.join(done.args)} failed:\n{done.stderr}"
    return done.stderr


def table_names(url: sa.URL) -> set[str]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_creates_both_and_downgrade_removes_both(schema_url: sa.URL) -> None:
    prefix = random_prefix("ex")
    url = schema_url.render_as_string(hide_password=False)
    # Settings from environment variables for the upgrade ...
    log = ok(alembic("upgrade", "head", env={"DATABASE_URL": url, "CHANCY_PREFIX": prefix}))
    assert f"-> {USER_REVISION}" in log and "-> core_0001" in log

    found = table_names(schema_url)
    assert {"exampleapp_users", "alembic_version"} <= found
    assert {prefix + stem for stem in CHANCY_STEMS} <= found
    engine = sa.create_engine(schema_url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == (
                USER_REVISION
            )
            assert Migrator(prefix).is_up_to_date(conn)
    finally:
        engine.dispose()

    # ... and -x arguments for the downgrade: both projects go back to nothing.
    xargs = ["-x", f"url={url}", "-x", f"chancy_prefix={prefix}", "-x", "chancy_target=base"]
    ok(alembic(*xargs, "downgrade", "base"))
    assert table_names(schema_url) == {"alembic_version"}  # Alembic keeps its empty table


def test_a_failing_chancy_step_rolls_back_the_application_too(schema_url: sa.URL) -> None:
    """Both run in one transaction: if chancy's part fails, the user's revision is undone."""
    url = schema_url.render_as_string(hide_password=False)
    xargs = ["-x", f"url={url}", "-x", f"chancy_prefix={random_prefix('ex')}"]
    done = alembic(*xargs, "-x", "chancy_target=nosuch@head", "upgrade", "head")
    assert done.returncode != 0
    assert "MigrationError" in done.stderr and "nosuch@head" in done.stderr
    assert table_names(schema_url) == set()
