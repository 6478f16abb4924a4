"""Drain (burn-down): N no-op jobs already queued, then one worker empties the queue.

The rate is N over the span from the first claim to the last completion, both taken
from the database's own ``started_at``/``completed_at`` columns, so worker start-up is
left out (as graphile-worker and River do) and every job is checked to have succeeded.
"""

from __future__ import annotations

import time

import chancy.bench.jobs as bench_jobs
from chancy.app import Chancy
from chancy.bench.common import (
    CompletionCounter,
    Progress,
    Sizes,
    bench_queue,
    executor_available,
    fresh_app,
    make_worker,
    push_bulk,
    queue_running,
    queue_summary,
    reset_jobs,
    vacuum,
)
from chancy.bench.report import Report, Row
from chancy.executors.base import cpu_count
from chancy.job import Job

ASYNC = "chancy.executors.asyncex.AsyncExecutor"
THREADED = "chancy.executors.thread.ThreadedExecutor"
PROCESS = "chancy.executors.process.ProcessExecutor"


def cases(sizes: Sizes) -> list[tuple[str, str, int, str]]:
    """(case name, executor path, concurrency, job function) for each drain run."""
    slots = 2 * cpu_count()
    out = []
    if "async" in sizes.executors:
        out += [(f"async x{c}", ASYNC, c, bench_jobs.NOOP) for c in sizes.async_concurrency]
    if "threaded" in sizes.executors:
        out.append((f"threaded x{slots}", THREADED, slots, bench_jobs.NOOP_SYNC))
    if "process" in sizes.executors:
        out.append((f"process x{slots}", PROCESS, slots, bench_jobs.NOOP_SYNC))
    return out


async def run(dsn: str, sizes: Sizes, report: Report, progress: Progress) -> None:
    async with fresh_app(dsn) as app:
        for case, executor, concurrency, func in cases(sizes):
            if not executor_available(executor):
                report.add(
                    Row(
                        "drain",
                        case,
                        None,
                        "jobs/s",
                        note=f"skipped: {executor.rsplit('.', 2)[-2]} executor not available",
                    )
                )
                continue
            progress(f"drain: {case}, {sizes.drain:,} jobs")
            report.add(await drain_once(app, case, executor, concurrency, func, sizes))


async def drain_once(
    app: Chancy, case: str, executor: str, concurrency: int, func: str, sizes: Sizes
) -> Row:
    n = sizes.drain
    name = "bench_drain"
    await reset_jobs(app)
    await app.declare(bench_queue(name, executor, concurrency, sizes.polling_interval), upsert=True)
    await push_bulk(app, [Job(func=func, queue=name) for _ in range(n)])
    # Fresh statistics, as autovacuum would provide in production (River's bench does
    # the same): without them the claim can be planned as a sort of the whole backlog.
    await vacuum(app)
    counter = CompletionCounter(n)
    wall_start = time.perf_counter()
    async with make_worker(app, [name]) as worker:
        worker.hub.on("worker.jobs.updated", counter)
        await queue_running(worker, name)
        running = worker.executors.get(name)
        finished = await counter.wait()
        wall = time.perf_counter() - wall_start
    summary = await queue_summary(app, name)
    span = (
        (summary.last_completed - summary.first_started).total_seconds()
        if summary.first_started and summary.last_completed
        else float("nan")
    )
    ok = finished and summary.succeeded == n
    rate = n / span if span > 0 else float("nan")
    return Row(
        "drain",
        case,
        rate if ok else None,
        "jobs/s",
        detail=f"n={n:,}; first claim to last completion {span:.2f} s (wall {wall:.2f} s)",
        note="" if ok else f"FAILED: {summary.succeeded:,} of {n:,} succeeded",
        extra={
            "n": n,
            "span": span,
            "wall": wall,
            "succeeded": summary.succeeded,
            # What actually ran, so a stale queue declaration cannot go unnoticed.
            "executor": type(running).__name__ if running is not None else None,
            "concurrency": running.concurrency if running is not None else None,
        },
    )
