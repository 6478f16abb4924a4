"""Run scripts in fresh processes whose ``Chancy()`` uses an embedded server of their own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
PYTHON_EXE = str(PYTHON if PYTHON.exists() else sys.executable)


def embedded_env(data_home: Path, **extra: str) -> dict[str, str]:
    """The environment of a process with no CHANCY_DSN, whose per-user data dir is ``data_home``.

    platformdirs honours XDG_DATA_HOME, so ``Chancy()`` in that process keeps its server
    under ``data_home/chancy/postgres``, away from the user's real one.
    """
    env = {k: v for k, v in os.environ.items() if k != "CHANCY_DSN"}
    return {**env, "XDG_DATA_HOME": str(data_home), "PYTHONPATH": str(ROOT), **extra}


def pgdata(data_home: Path) -> Path:
    return data_home / "chancy" / "postgres" / "pgdata"


async def run_script(*args: str, env: dict[str, str], timeout: float = 120) -> tuple[int, str]:
    """Run ``python *args`` to the end; return its exit code and combined output."""
    proc = await asyncio.create_subprocess_exec(
        PYTHON_EXE,
        *args,
        env=env,
        cwd=str(ROOT),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@contextlib.asynccontextmanager
async def worker_cli(app_path: str, *, env: dict[str, str], cwd: Path) -> AsyncIterator[list[str]]:
    """``chancy --app APP_PATH worker start`` for the block's duration, stopped by SIGTERM.

    Yields a list that holds, after the block, the worker's output; the worker must have
    exited with code 0 (a clean, graceful stop).
    """
    proc = await asyncio.create_subprocess_exec(
        str(Path(PYTHON_EXE).with_name("chancy")),
        *("--app", app_path, "worker", "start"),
        env=env,
        cwd=str(cwd),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []
    try:
        yield output
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        output.append(out.decode())
    assert proc.returncode == 0, output[0]
