"""Several workers on one queue: every job runs exactly once, within each worker's
concurrency, and a rate limit is a budget shared by all of them."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter, defaultdict

import pytest
import sqlalchemy as sa

from chancy import Chancy, Job, Queue
from tests.helpers import poll_until, states
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import (
    ASYNC,
    max_overlap,
    running_worker,
    side_rows,
    side_table,
    worker_process,
)

pytestmark = pytest.mark.slow

JOBS = 2000
CONCURRENCY = 20


async def _count(app: Chancy, state: str) -> int:
    table = app.models.Job.__table__
    stmt = sa.select(sa.func.count()).where(table.c.state == state)
    async with app.engine.connect() as conn:
        return (await conn.execute(stmt)).scalar_one()


async def test_two_worker_processes_run_each_job_exactly_once(chancy: Chancy) -> None:
    await chancy.declare(Queue("default", executor=ASYNC, concurrency=1))
    await chancy.declare(
        Queue("bulk", executor=ASYNC, concurrency=CONCURRENCY, polling_interval=0.2)
    )
    async with side_table(chancy) as table:
        kwargs = {"dsn": chancy.conninfo, "table": table, "hold": 0.005}
        pushed = [Job.from_func(jobs.record_run, queue="bulk", kwargs=kwargs)] * JOBS
        async for _ in chancy.push_many(pushed):
            pass
        async with (
            worker_process(chancy, worker_id="w-a") as a,
            worker_process(chancy, worker_id="w-b") as b,
        ):
            await asyncio.gather(a.ready(timeout=30), b.ready(timeout=30))

            async def all_done() -> bool:  # polled: the workers are other processes
                return await _count(chancy, "succeeded") >= JOBS

            await poll_until(all_done, what=f"{JOBS} jobs to succeed", timeout=150, interval=0.2)
            for child in (a, b):
                child.signal(signal.SIGTERM)
            for child in (a, b):
                code, _ = await child.finish(timeout=20)
                assert code == 0, child.stderr()
        rows = await side_rows(chancy, table)
    runs = Counter(row[0] for row in rows)
    assert len(runs) == JOBS
    assert max(runs.values()) == 1, "a job ran more than once"
    assert await states(chancy) == {"succeeded": JOBS}

    by_worker: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for _, worker, started, ended in rows:
        by_worker[worker].append((started, ended))
    assert set(by_worker) == {"w-a", "w-b"}
    for worker, intervals in by_worker.items():
        assert 1 < max_overlap(intervals) <= CONCURRENCY, worker


async def test_rate_limit_is_shared_by_two_workers(dsn: str, chancy: Chancy) -> None:
    """5 jobs per 2 s window in total, though each worker alone could start 3 at once."""
    second = Chancy(dsn, prefix=chancy.prefix, no_default_plugins=True)
    queue = Queue(
        "limited",
        executor=ASYNC,
        concurrency=3,
        polling_interval=0.1,
        rate_limit=5,
        rate_limit_window=2,
    )
    try:
        async with side_table(chancy) as table:
            kwargs = {"dsn": chancy.conninfo, "table": table, "hold": 0.5}
            refs = [
                ref
                async for batch in chancy.push_many(
                    [Job.from_func(jobs.record_run, queue="limited", kwargs=kwargs)] * 10
                )
                for ref in batch
            ]
            async with (
                running_worker(chancy, queue, worker_id="rate-a"),
                running_worker(second, queue, worker_id="rate-b"),
            ):
                done = await chancy.wait_for_jobs(refs, interval=0.1, timeout=15)
            rows = await side_rows(chancy, table)
    finally:
        await second.__aexit__(None, None, None)
    assert {j.state for j in done} == {"succeeded"} and len(done) == 10
    assert len(rows) == 10
    # Windows are aligned to the epoch, so the 10 jobs span 2 or 3 of them (the first
    # may open late). ``started_at`` is the claim's own database time, not the moment
    # the job got going, so a claim can't drift into the next window.
    per_window = Counter(int(j.started_at.timestamp()) // 2 for j in done)
    assert max(per_window.values()) == 5, per_window
    assert len(per_window) in (2, 3), per_window
    # Each worker alone could start 3 at a time: the budget held across both.
    assert {worker for _, worker, _, _ in rows} == {"rate-a", "rate-b"}
