"""The workloads every adapter runs, so each system is measured the same way.

An adapter is a small script that runs inside its system's own virtualenv. It
subclasses :class:`System` with that system's public API (enqueue, start and stop a
worker, count unfinished jobs) and calls :func:`main`. The harness prints one JSON line
per measurement for ``compare.py`` to collect.

Definitions shared by every system:

* enqueue_batch: N jobs through the system's bulk API, 1,000 per call, jobs/s.
* enqueue_single: N/20 jobs, one per call (one transaction each), jobs/s, and the
  p50 of one call in ms.
* drain: N async no-op jobs queued first (not timed); one worker at concurrency C.
  Rate = N / (time the last job is seen finished in the database - time the first
  job body started). The database is polled every 20 ms on a separate connection.
  Every job must have run exactly once and none may be left unfinished.
* latency: an idle worker; one job pushed at a time and awaited until its body runs;
  push-to-start in ms (p50/p95/p99) over S samples after 20 warm-ups.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from typing import Any

import psycopg

#: Filled by the job bodies (adapters call ``job_ran``), read by the workloads.
RUNS = {"count": 0, "first": None}
ARRIVED: asyncio.Event | None = None
LAST_START = {"t": 0.0}


def job_ran() -> None:
    """Call this first thing in every job body."""
    now = time.perf_counter()
    RUNS["count"] += 1
    if RUNS["first"] is None:
        RUNS["first"] = now
    LAST_START["t"] = now
    if ARRIVED is not None:
        ARRIVED.set()


def reset_runs() -> None:
    RUNS["count"] = 0
    RUNS["first"] = None


class System:
    """What a system's adapter provides. ``remaining_sql`` counts unfinished jobs."""

    name = "?"
    remaining_sql = ""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    async def setup(self) -> None:
        """Install the schema into the (fresh) database."""

    async def close(self) -> None:
        pass

    async def enqueue_many(self, n: int, sync: bool = False) -> None:
        """Enqueue ``n`` no-op jobs with one bulk call (the harness passes n <= 1000);
        ``sync`` asks for the synchronous no-op (thread/process executors)."""
        raise NotImplementedError

    async def enqueue_one(self) -> None:
        raise NotImplementedError

    async def start_worker(self, concurrency: int) -> None:
        raise NotImplementedError

    async def start_worker_with(self, executor: str, concurrency: int) -> None:
        """Start a worker whose queue uses ``executor`` ("threaded"/"process") and a
        synchronous no-op job. Only the chancy adapters provide it."""
        raise NotImplementedError

    async def stop_worker(self) -> None:
        raise NotImplementedError

    def version(self) -> str:
        return ""


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def _remaining(conn: psycopg.AsyncConnection[Any], sql: str) -> int:
    cur = await conn.execute(sql)
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def enqueue_batch(system: System, n: int) -> dict[str, Any]:
    start = time.perf_counter()
    for i in range(0, n, 1000):
        await system.enqueue_many(min(1000, n - i))
    elapsed = time.perf_counter() - start
    return {"value": n / elapsed, "unit": "jobs/s", "n": n, "seconds": elapsed}


async def enqueue_single(system: System, n: int) -> dict[str, Any]:
    """One job per call; the rate, and each call's time (its p50 is what a request
    handler pays per push)."""
    await system.enqueue_one()
    calls = []
    start = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        await system.enqueue_one()
        calls.append((time.perf_counter() - t) * 1000)
    elapsed = time.perf_counter() - start
    return {
        "value": n / elapsed,
        "unit": "jobs/s",
        "n": n,
        "seconds": elapsed,
        "p50_ms": statistics.median(calls),
    }


async def drain(
    system: System, n: int, concurrency: int, executor: str | None = None
) -> dict[str, Any]:
    """Drain ``n`` jobs. With ``executor`` the jobs run in threads or child processes,
    where the harness cannot count runs: the clock then starts at worker start and only
    the database says when the queue is empty."""
    for i in range(0, n, 1000):
        await system.enqueue_many(min(1000, n - i), sync=executor is not None)
    reset_runs()
    async with await psycopg.AsyncConnection.connect(system.dsn, autocommit=True) as conn:
        start_wall = time.perf_counter()
        if executor is None:
            await system.start_worker(concurrency)
        else:
            await system.start_worker_with(executor, concurrency)
            RUNS["count"] = n  # not observable in-process; the database check stands
        last_change, seen = time.perf_counter(), -1
        while True:
            left = await _remaining(conn, system.remaining_sql)
            now = time.perf_counter()
            if left == 0 and RUNS["count"] >= n:
                break
            if left != seen:
                seen, last_change = left, now
            elif now - last_change > 60:
                break
            await asyncio.sleep(0.02)
        done = time.perf_counter()
        await system.stop_worker()
        left = await _remaining(conn, system.remaining_sql)
    first = RUNS["first"] or start_wall
    span = done - first
    ok = left == 0 and RUNS["count"] == n
    return {
        "value": n / span if ok else None,
        "unit": "jobs/s",
        "n": n,
        "concurrency": concurrency,
        "span": span,
        "startup": first - start_wall,
        "runs": RUNS["count"],
        "left": left,
        "ok": ok,
    }


async def latency(system: System, samples: int) -> dict[str, Any]:
    global ARRIVED
    ARRIVED = asyncio.Event()
    await system.start_worker(10)
    await asyncio.sleep(1.0)  # let the worker settle (listeners, first poll)
    times = []
    try:
        for i in range(20 + samples):
            ARRIVED.clear()
            t0 = time.perf_counter()
            await system.enqueue_one()
            await asyncio.wait_for(ARRIVED.wait(), 30)
            if i >= 20:
                times.append((LAST_START["t"] - t0) * 1000)
    finally:
        await system.stop_worker()
    return {
        "value": statistics.median(times),
        "unit": "ms p50",
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "max": max(times),
        "samples": len(times),
    }


async def _run(system: System, args: argparse.Namespace) -> dict[str, Any]:
    await system.setup()
    try:
        if args.workload == "enqueue_batch":
            result = await enqueue_batch(system, args.jobs)
        elif args.workload == "enqueue_single":
            result = await enqueue_single(system, max(1, args.jobs // 20))
        elif args.workload == "drain":
            result = await drain(system, args.jobs, args.concurrency)
        elif args.workload in ("drain_threaded", "drain_process"):
            executor = args.workload.split("_")[1]
            result = await drain(system, args.jobs, args.concurrency, executor)
        elif args.workload == "latency":
            result = await latency(system, args.samples)
        else:
            raise SystemExit(f"unknown workload {args.workload}")
    finally:
        await system.close()
    return {"system": system.name, "workload": args.workload, "version": system.version(), **result}


def main(factory: Any) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--workload", required=True)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    runner = asyncio.run
    if args.uvloop:
        import uvloop

        runner = uvloop.run
    result = runner(_run(factory(args.dsn), args))
    sys.stdout.write(json.dumps(result) + "\n")
