"""Shared helpers of the worker tests: a started worker, an event log, direct DB reads.

Tests observe the worker through its hub (``tests.helpers.EventLog``: every event is
recorded from before start, so nothing can be missed between "do something" and "wait
for it"; ``running_worker`` also reports each job as it starts) and through the jobs
table; they never sleep to let the worker catch up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from chancy import Chancy, Queue, Reference
from chancy.worker import Worker
from tests.helpers import EventLog, job_row, poll_until, watch_jobs
from tests.worker import jobs_for_worker_tests as jobs

ASYNC = Chancy.Executor.Async
ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
if not Path(PYTHON).exists():  # pragma: no cover - a venv elsewhere
    PYTHON = sys.executable
JOBS = "tests.worker.jobs_for_worker_tests"


@contextlib.asynccontextmanager
async def running_worker(
    app: Chancy, *queues: Queue, **options: Any
) -> AsyncIterator[tuple[Worker, EventLog]]:
    """A started worker (no signal handlers, short intervals) serving ``queues``.

    The queues are declared before it starts, along with an async ``default`` queue so
    the worker's own default declaration doesn't need the process executor. Returns once
    every given queue has its executor.
    """
    await app.declare(Queue("default", executor=ASYNC, concurrency=1))
    for queue in queues:
        await app.declare(queue, upsert=True)
    settings: dict[str, Any] = {
        "register_signal_handlers": False,
        "heartbeat_poll_interval": 1,
        "queue_change_poll_interval": 1,
        "shutdown_timeout": 5,
    }
    settings.update(options)
    worker = Worker(app, **settings)
    log = EventLog(worker.hub)
    watch_jobs(worker)
    await worker.start()
    try:
        for queue in queues:
            await log.wait("worker.queue.started", queue=queue.name)
        yield worker, log
    finally:
        await worker.stop()


async def wait_for_state(
    app: Chancy, ref: Reference, state: str, *, timeout: float = 5
) -> dict[str, Any]:
    """Until the row reaches ``state``: for a worker in another process, whose hub this
    one cannot hear (an in-process worker's ``EventLog.job_started`` is the event)."""
    found: dict[str, Any] = {}

    async def reached() -> bool:
        found.update(await job_row(app, ref))
        return found["state"] == state

    await poll_until(reached, what=f"job {ref.identifier} to be {state}", timeout=timeout)
    return found


@contextlib.asynccontextmanager
async def side_table(app: Chancy) -> AsyncIterator[str]:
    """A table ``record_run`` jobs write (job_id, worker, started, ended) into; dropped after."""
    name = f"{app.prefix}runs"
    async with await psycopg.AsyncConnection.connect(app.conninfo, autocommit=True) as conn:
        await conn.execute(
            sql.SQL(
                "CREATE UNLOGGED TABLE {} (job_id uuid NOT NULL, worker text, "
                "started double precision, ended double precision)"
            ).format(sql.Identifier(name))
        )
    try:
        yield name
    finally:
        await jobs.close_side_connections()
        async with await psycopg.AsyncConnection.connect(app.conninfo, autocommit=True) as conn:
            await conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(name)))


async def side_rows(app: Chancy, table: str) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(app.conninfo, autocommit=True) as conn:
        cur = await conn.execute(
            sql.SQL("SELECT job_id, worker, started, ended FROM {}").format(sql.Identifier(table))
        )
        return list(await cur.fetchall())


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals open at one instant (an end frees before a start)."""
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    best = current = 0
    for _, delta in points:
        current += delta
        best = max(best, current)
    return best


async def terminate_backends(
    app: Chancy, application_name: str, *, listen_only: bool = False
) -> int:
    """pg_terminate_backend every connection that set ``application_name``; returns how many."""
    query = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = %s AND pid <> pg_backend_pid()"
    )
    if listen_only:
        query += " AND query LIKE 'LISTEN %%'"
    async with await psycopg.AsyncConnection.connect(app.conninfo, autocommit=True) as conn:
        cur = await conn.execute(query, (application_name,))
        return len(await cur.fetchall())


def named_dsn(dsn: str, application_name: str) -> str:
    """``dsn`` with an application_name, so a test can find (and kill) its connections."""
    joiner = "&" if "?" in dsn else "?"
    return f"{dsn}{joiner}application_name={application_name}"


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


class WorkerProcess:
    """A worker running ``tests/worker/run_worker.py`` in a child process."""

    def __init__(self, proc: asyncio.subprocess.Process, stderr: Any) -> None:
        self.proc = proc
        self._stderr = stderr
        self.worker_id = ""

    async def ready(self, timeout: float = 20) -> str:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line.startswith(b"READY "):
            raise AssertionError(f"worker did not start: {line!r}\n{self.stderr()}")
        self.worker_id = line.split()[1].decode()
        return self.worker_id

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def signal_group(self, signum: int) -> None:
        """Signal the worker's whole process group (started with ``new_session=True``)."""
        os.killpg(self.proc.pid, signum)

    async def finish(self, timeout: float) -> tuple[int, str]:
        """Wait for the process to exit; its return code and the rest of its stdout."""
        assert self.proc.stdout is not None
        out = await asyncio.wait_for(self.proc.stdout.read(), timeout)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        return code, out.decode()

    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")


@contextlib.asynccontextmanager
async def worker_process(
    app: Chancy, *, worker_id: str, shutdown_timeout: float = 30, new_session: bool = False
) -> AsyncIterator[WorkerProcess]:
    """Start a worker process on ``app``'s prefix; it is killed if still running afterwards.

    ``new_session`` makes it lead its own process group (which its fork server and
    children join), so a test can signal the group as systemd or Ctrl-C would; the
    whole group is killed afterwards.
    """
    with tempfile.TemporaryFile() as err:
        proc = await asyncio.create_subprocess_exec(
            PYTHON,
            str(ROOT / "tests" / "worker" / "run_worker.py"),
            app.conninfo,
            app.prefix,
            "--worker-id",
            worker_id,
            "--shutdown-timeout",
            str(shutdown_timeout),
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
            env=subprocess_env(),
            cwd=str(ROOT),
            start_new_session=new_session,
        )
        child = WorkerProcess(proc, err)
        try:
            yield child
        finally:
            if new_session:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
