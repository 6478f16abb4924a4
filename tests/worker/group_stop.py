"""A stop signal sent to a worker's whole process group, as systemd, Kubernetes and Ctrl-C do.

One run: a real worker process (``run_worker.py``, in its own session so the signal reaches
only it, its fork server and its children) serves a process-executor queue; once its slow
jobs run (``when="running"``), or as soon as they are claimed while the fork server is
still starting (``when="starting"``), the group gets ``signum``. Whatever the first
worker left unfinished, a second worker (stopped by a group signal once idle) completes.
The run returns how many jobs ended failed, were lost (never completed) or completed
more than once.

``python -m tests.worker.group_stop [--runs N]`` repeats both cases and prints the tally.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from chancy import Chancy, Job, Queue
from chancy.testing import isolated_chancy
from tests.helpers import poll_until, states
from tests.worker import executor_jobs as ej
from tests.worker.worker_helpers import worker_process

#: The queue's slots; the run pushes this many slow jobs, one per child.
SLOTS = 4
#: Seconds each job sleeps: long enough to be caught running.
HOLD = 2.0


@dataclass
class Tally:
    """What one run (or several) left behind."""

    failed: int = 0
    lost: int = 0
    duplicated: int = 0
    completed: int = 0
    #: Runs in which at least one job failed.
    failing_runs: int = 0
    #: Error texts of failed jobs, first lines only (to say why).
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.failed += other.failed
        self.lost += other.lost
        self.duplicated += other.duplicated
        self.completed += other.completed
        self.failing_runs += other.failing_runs
        self.errors += other.errors


async def _runs_table(app: Chancy) -> str:
    name = f"{app.prefix}runs"
    async with await psycopg.AsyncConnection.connect(app.conninfo, autocommit=True) as conn:
        await conn.execute(
            sql.SQL("CREATE TABLE {} (job_id uuid, kind text, pid int, at float8)").format(
                sql.Identifier(name)
            )
        )
    return name


async def _ends(app: Chancy, table: str) -> dict[str, int]:
    """How many times each job finished its work."""
    async with await psycopg.AsyncConnection.connect(app.conninfo, autocommit=True) as conn:
        cur = await conn.execute(
            sql.SQL("SELECT job_id::text, count(*) FROM {} WHERE kind = 'end' GROUP BY 1").format(
                sql.Identifier(table)
            )
        )
        return {row[0]: row[1] for row in await cur.fetchall()}


async def run_once(dsn: str, signum: int, when: str) -> Tally:
    """One group stop at ``when`` ("running" or "starting"), then a completing restart."""
    async with isolated_chancy(dsn, no_default_plugins=True) as app:
        table = await _runs_table(app)
        await app.declare(Queue("default", executor=Chancy.Executor.Async, concurrency=1))
        await app.declare(
            Queue("slow", executor=Chancy.Executor.Process, concurrency=SLOTS, polling_interval=0.2)
        )
        refs = [
            await app.push(
                Job.from_func(
                    ej.recorded_sleep,
                    queue="slow",
                    kwargs={"dsn": app.conninfo, "table": table, "seconds": HOLD},
                )
            )
            for _ in range(SLOTS)
        ]

        async def started() -> bool:
            async with await psycopg.AsyncConnection.connect(app.conninfo, autocommit=True) as conn:
                cur = await conn.execute(
                    sql.SQL("SELECT count(*) FROM {} WHERE kind = 'start'").format(
                        sql.Identifier(table)
                    )
                )
                row = await cur.fetchone()
            return row is not None and row[0] >= SLOTS

        async def claimed() -> bool:
            return (await states(app)).get("running", 0) >= SLOTS

        async def settled() -> bool:
            found = await states(app)
            return found.get("pending", 0) + found.get("retrying", 0) + found.get("running", 0) == 0

        async with worker_process(
            app, worker_id="group-stop-1", shutdown_timeout=20, new_session=True
        ) as first:
            await first.ready(timeout=60)
            # Polled: the worker and its children are other processes.
            await poll_until(started if when == "running" else claimed, what=when, timeout=60)
            first.signal_group(signum)
            await first.finish(timeout=60)
        if not await settled():
            async with worker_process(
                app, worker_id="group-stop-2", shutdown_timeout=20, new_session=True
            ) as second:
                await second.ready(timeout=60)
                await poll_until(settled, what="every job to settle", timeout=60)
                second.signal_group(signal.SIGTERM)
                await second.finish(timeout=60)
        tally = Tally()
        ends = await _ends(app, table)
        for ref in refs:
            job = await app.get_job(ref)
            assert job is not None
            done = ends.get(str(ref.identifier), 0)
            if job.state == "failed":
                tally.failed += 1
                tally.errors += [e["traceback"].strip().splitlines()[-1] for e in job.errors]
            elif job.state != "succeeded" or done == 0:
                tally.lost += 1
            if done > 1:
                tally.duplicated += 1
            tally.completed += job.state == "succeeded"
        tally.failing_runs = int(tally.failed > 0)
        return tally


async def main(args: argparse.Namespace) -> None:
    dsn = os.environ.get("CHANCY_TEST_DSN", "postgresql://root@127.0.0.1:5432/test")
    for name, signum in (("SIGTERM", signal.SIGTERM), ("SIGINT", signal.SIGINT)):
        for when in ("running", "starting"):
            total = Tally()
            for _ in range(args.runs):
                total.add(await run_once(dsn, signum, when))
            runs_failing = "" if not total.errors else f" e.g. {total.errors[0]!r}"
            print(
                f"{name:7} {when:8} x{args.runs}: jobs={args.runs * SLOTS} "
                f"failed={total.failed} (in {total.failing_runs} runs) lost={total.lost} "
                f"duplicated={total.duplicated}{runs_failing}",
                flush=True,
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    sys.exit(asyncio.run(main(parser.parse_args())))
