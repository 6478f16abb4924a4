"""Push-to-start latency on an idle worker, with notifications on and off.

With notifications, jobs are pushed one at a time and each is awaited until it starts
(graphile-worker's latency test). Without them the worker only polls, so waiting for
each job would take minutes; jobs are instead pushed open-loop every ``latency_gap``
seconds and each one's delay is still measured on its own. The clock starts before
``push()`` (so it includes the insert and commit) and stops when the job function runs.
"""

from __future__ import annotations

import asyncio
import time

import chancy.bench.jobs as bench_jobs
from chancy.app import Chancy
from chancy.bench.common import (
    Progress,
    Sizes,
    bench_queue,
    fresh_app,
    make_worker,
    queue_running,
)
from chancy.bench.report import Report, Row, percentile
from chancy.job import Job

QUEUE = "bench_latency"
ASYNC = "chancy.executors.asyncex.AsyncExecutor"
WARMUP = 20


async def run(dsn: str, sizes: Sizes, report: Report, progress: Progress) -> None:
    for notifications in (True, False):
        label = "notifications on" if notifications else "notifications off"
        progress(f"latency: {sizes.latency_samples} jobs, {label}")
        async with fresh_app(dsn, notifications=notifications) as app:
            # Notifications on: the queue's default 5 s poll never fires in practice.
            polling = 5.0 if notifications else sizes.polling_interval
            await app.declare(bench_queue(QUEUE, ASYNC, 10, polling))
            async with make_worker(app, [QUEUE]) as worker:
                await queue_running(worker, QUEUE)
                if notifications:
                    samples = await _closed_loop(app, sizes.latency_samples)
                else:
                    samples = await _open_loop(app, sizes.latency_samples, sizes.latency_gap)
        report.add(_row(label, samples, notifications, sizes))


async def _closed_loop(app: Chancy, n: int) -> list[float]:
    arrived = bench_jobs.arrival_event()
    job = Job(func=bench_jobs.RECORD_START, queue=QUEUE)
    samples = []
    for i in range(WARMUP + n):
        arrived.clear()
        t0 = time.perf_counter()
        ref = await app.push(job)
        await asyncio.wait_for(arrived.wait(), 30)
        if i >= WARMUP:
            samples.append((bench_jobs.STARTED[ref.identifier] - t0) * 1000)
    return samples


async def _open_loop(app: Chancy, n: int, gap: float) -> list[float]:
    bench_jobs.arrival_event()
    job = Job(func=bench_jobs.RECORD_START, queue=QUEUE)
    pushed: dict[object, float] = {}
    for _ in range(n):
        t0 = time.perf_counter()
        ref = await app.push(job)
        pushed[ref.identifier] = t0
        await asyncio.sleep(gap)
    deadline = time.monotonic() + 30
    while len(bench_jobs.STARTED) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return [
        (bench_jobs.STARTED[ident] - t0) * 1000
        for ident, t0 in pushed.items()
        if ident in bench_jobs.STARTED
    ]


def _row(label: str, samples: list[float], notifications: bool, sizes: Sizes) -> Row:
    p50, p95, p99 = (percentile(samples, p) for p in (50, 95, 99))
    mode = (
        "sequential"
        if notifications
        else (
            f"open loop every {sizes.latency_gap * 1000:.0f} ms, poll {sizes.polling_interval:g} s"
        )
    )
    met = None
    if notifications and samples:
        met = p50 <= 3 and p99 <= 15
    return Row(
        "latency",
        f"push-to-start, {label}",
        p50,
        "ms p50",
        detail=f"p95 {p95:.2f} ms, p99 {p99:.2f} ms, max {max(samples, default=float('nan')):.2f}"
        f" ms; {len(samples)} samples, {mode}",
        target="p50<=3, p99<=15 ms" if notifications else "",
        met=met,
        extra={"p50": p50, "p95": p95, "p99": p99, "samples": len(samples)},
    )
