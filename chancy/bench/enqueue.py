"""Enqueue throughput: one job per transaction, ``push_many``, and ``push_many_ex``
inside a caller's ``AsyncSession`` (the transactional path an application uses)."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

import chancy.bench.jobs as bench_jobs
from chancy.app import Chancy
from chancy.bench.common import Progress, Sizes, fresh_app, reset_jobs
from chancy.bench.report import Report, Row, percentile
from chancy.job import Job

QUEUE = "bench_enqueue"


def _jobs(n: int) -> list[Job]:
    return [Job(func=bench_jobs.NOOP, queue=QUEUE) for _ in range(n)]


async def run(dsn: str, sizes: Sizes, report: Report, progress: Progress) -> None:
    async with fresh_app(dsn) as app:
        await _single(app, sizes.push_single, report, progress)
        await reset_jobs(app)
        await _many(app, sizes.push_many, report, progress)
        await reset_jobs(app)
        await _many_ex(app, sizes.push_many_ex, report, progress)


async def _single(app: Chancy, n: int, report: Report, progress: Progress) -> None:
    progress(f"enqueue: push x{n:,} (one transaction each)")
    job = Job(func=bench_jobs.NOOP, queue=QUEUE)
    await app.push(job)  # warm the pool and the statement cache
    calls = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        await app.push(job)
        calls.append((time.perf_counter() - t) * 1000)
    elapsed = time.perf_counter() - start
    report.add(
        Row(
            "enqueue",
            "push (1 job/txn)",
            n / elapsed,
            "jobs/s",
            detail=f"n={n:,}; per call p50 {percentile(calls, 50):.2f} ms, "
            f"p99 {percentile(calls, 99):.2f} ms",
            extra={"n": n, "seconds": elapsed},
        )
    )


async def _many(app: Chancy, n: int, report: Report, progress: Progress) -> None:
    progress(f"enqueue: push_many x{n:,}")
    jobs = _jobs(n)
    start = time.perf_counter()
    pushed = 0
    async for refs in app.push_many(jobs):
        pushed += len(refs)
    elapsed = time.perf_counter() - start
    report.add(
        Row(
            "enqueue",
            "push_many",
            pushed / elapsed,
            "jobs/s",
            detail=f"n={pushed:,} in batches of 1,000 (default); {elapsed:.2f} s",
            extra={"n": pushed, "seconds": elapsed},
        )
    )


async def _many_ex(app: Chancy, n: int, report: Report, progress: Progress) -> None:
    progress(f"enqueue: push_many_ex x{n:,} in one AsyncSession transaction")
    jobs = _jobs(n)
    start = time.perf_counter()
    pushed = 0
    async with AsyncSession(app.engine) as session, session.begin():
        for i in range(0, n, 1000):
            pushed += len(await app.push_many_ex(session, jobs[i : i + 1000]))
    elapsed = time.perf_counter() - start
    report.add(
        Row(
            "enqueue",
            "push_many_ex (AsyncSession)",
            pushed / elapsed,
            "jobs/s",
            detail=f"n={pushed:,}, 1,000 per call, one commit; {elapsed:.2f} s",
            extra={"n": pushed, "seconds": elapsed},
        )
    )
