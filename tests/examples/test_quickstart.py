"""The README's first command: examples/quickstart.py runs jobs, prints results, cleans up."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import sqlalchemy as sa

from chancy import Chancy
from chancy.testing import random_prefix

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"


async def _tables(dsn: str, prefix: str) -> list[str]:
    async with Chancy(dsn, prefix=prefix) as app:
        async with app.engine.connect() as conn:
            names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    return [n for n in names if n.startswith(prefix)]


async def test_quickstart_runs_every_job_and_cleans_up(dsn: str) -> None:
    prefix = random_prefix("qs")
    env = {**os.environ, "CHANCY_DSN": dsn, "CHANCY_PREFIX": prefix}
    proc = await asyncio.create_subprocess_exec(
        str(PYTHON if PYTHON.exists() else sys.executable),
        str(ROOT / "examples" / "quickstart.py"),
        env=env,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, f"stdout:\n{text}\nstderr:\n{err.decode()}"
    for line in (
        "done: add(a=2, b=3) -> 5",
        "done: add(a=40, b=2) -> 42",
        "done: count_words(text='jobs in postgres') -> 3",
        "done: greet(name='Ada') -> 'Hello, Ada!'",
        "done: greet(name='Grace') -> 'Hello, Grace!'",
        "done: greet(name='Linus') -> 'Hello, Linus!'",
        "6 of 6 jobs succeeded.",
    ):
        assert line in text, text
    assert f"prefix {prefix!r}" in text
    assert "FAILED" not in text
    # It removed its tables, so it can run again on the same prefix.
    assert await _tables(dsn, prefix) == []
