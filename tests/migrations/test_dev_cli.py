"""The developer CLI (root alembic.ini + alembic/env.py) works from the repository root."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from chancy.db.engine import to_url
from chancy.migrations import Migrator
from tests.migrations.helpers import leftovers, stems

ROOT = Path(__file__).resolve().parents[2]


def alembic(*args: str) -> str:
    exe = Path(sys.executable).with_name("alembic")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "alembic"]
    done = subprocess.run(
        [*cmd, *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"alembic {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.mark.slow
def test_history_upgrade_heads_and_downgrade_base(
    dsn: str, engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    prefix = new_prefix("dev")
    opts = ["-x", f"prefix={prefix}", "-x", f"url={to_url(dsn).render_as_string(False)}"]
    migrator = Migrator(prefix)

    history = alembic("history")
    for revision in migrator.core_revisions():
        assert revision in history

    alembic(*opts, "upgrade", "heads")
    with engine.connect() as conn:
        assert migrator.is_up_to_date(conn, [b for b in migrator.branches() if b != "core"])
        assert {"jobs", "queues", "alembic_version"} <= stems(conn, prefix)

    offline = alembic(*opts, "upgrade", "core@head", "--sql")
    assert f"pg_advisory_xact_lock(hashtext('{prefix}migrate'))" in offline
    assert f"CREATE TABLE {prefix}jobs" in offline

    alembic(*opts, "downgrade", "base")
    with engine.connect() as conn:
        assert leftovers(conn, prefix) == {f"{prefix}alembic_version"}
