"""The developer CLI (root alembic.ini + alembic/env.py) works from the repository root."""

from __future__ import annotations

import json
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


#: Runs each argv given as JSON through alembic's own command line, in one process (each
#: command in a process of its own cost ~2 s of start-up), with a line between outputs.
RUNNER = """
import json, sys
from alembic.config import main
for argv in json.loads(sys.argv[1]):
    main(argv=argv, prog="alembic")
    print("\\n--- next ---", flush=True)
"""


def alembic(*commands: list[str]) -> list[str]:
    """The stdout of each ``alembic`` command, run from the repository root."""
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(commands)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"alembic {commands} failed:\n{done.stderr}"
    return done.stdout.split("\n--- next ---\n")[: len(commands)]


@pytest.mark.slow
def test_history_upgrade_heads_and_downgrade_base(
    dsn: str, engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    prefix = new_prefix("dev")
    opts = ["-x", f"prefix={prefix}", "-x", f"url={to_url(dsn).render_as_string(False)}"]
    migrator = Migrator(prefix)

    history, _ = alembic(["history"], [*opts, "upgrade", "heads"])
    for revision in migrator.core_revisions():
        assert revision in history

    with engine.connect() as conn:
        assert migrator.is_up_to_date(conn, [b for b in migrator.branches() if b != "core"])
        assert {"jobs", "queues", "alembic_version"} <= stems(conn, prefix)

    offline, _ = alembic([*opts, "upgrade", "core@head", "--sql"], [*opts, "downgrade", "base"])
    assert f"pg_advisory_xact_lock(hashtext('{prefix}migrate'))" in offline
    assert f"CREATE TABLE {prefix}jobs" in offline

    with engine.connect() as conn:
        assert leftovers(conn, prefix) == {f"{prefix}alembic_version"}
