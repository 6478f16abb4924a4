"""Claim time on a big table: millions of finished rows plus a pending backlog.

The claim is the worker's own (its producer's ``claim``: ``build_fetch`` on the worker
engine), timed from the client, so the number includes the round trips a worker pays.
Finished rows share the claimed queue, the worst case for an index that did not exclude
them. Claims are timed on the table as loaded (never analysed), then after ANALYZE.
"""

from __future__ import annotations

import time

from chancy.app import Chancy
from chancy.bench.common import Progress, Sizes, fresh_app, vacuum
from chancy.bench.report import Report, Row, median, percentile
from chancy.db.statements import bench as bench_sql
from chancy.queue import Queue
from chancy.worker import Worker
from chancy.worker.producer import Producer

QUEUE = "bench_big"
CHUNK = 1_000_000
WARMUP = 3


async def run(dsn: str, sizes: Sizes, report: Report, progress: Progress) -> None:
    async with fresh_app(dsn) as app:
        progress(
            f"bigtable: loading {sizes.big_finished:,} finished + {sizes.big_pending:,} pending"
        )
        load_start = time.perf_counter()
        remaining = sizes.big_finished
        while remaining > 0:
            count = min(CHUNK, remaining)
            await _fill(app, count, "succeeded")
            remaining -= count
        # Every timed claim commits, so keep enough pending rows for all of them.
        pending = max(sizes.big_pending, 2 * (sizes.claim_repeats + WARMUP) * 101)
        await _fill(app, pending, "pending")
        load = time.perf_counter() - load_start
        async with app.engine.connect() as conn:
            size = (await conn.execute(bench_sql.build_table_size(app.models))).scalar_one()
        # First as loaded (never analysed: autovacuum off or behind), then analysed.
        for analysed in (False, True):
            if analysed:
                await vacuum(app)
            await _claim_rows(app, sizes, report, progress, analysed, pending, size, load)


async def _claim_rows(
    app: Chancy,
    sizes: Sizes,
    report: Report,
    progress: Progress,
    analysed: bool,
    pending: int,
    size: int,
    load: float,
) -> None:
    label = "" if analysed else ", never analysed"
    for up_to in (1, 100):
        progress(f"bigtable: claim {up_to} x{sizes.claim_repeats}{label}")
        times = await _claims(app, up_to, sizes.claim_repeats)
        p50 = median(times)
        report.add(
            Row(
                "bigtable",
                f"claim {up_to}{label}",
                p50,
                "ms p50",
                detail=f"max {max(times):.2f} ms, p95 {percentile(times, 95):.2f} ms; "
                f"{sizes.big_finished:,} finished + {pending:,} pending rows, "
                f"table {size / 2**20:,.0f} MiB (loaded in {load:.0f} s)",
                target="<= 5 ms",
                met=p50 <= 5,
                extra={"times_ms": times, "table_bytes": size},
            )
        )


async def _fill(app: Chancy, count: int, state: str) -> None:
    stmt = bench_sql.build_fill_jobs(app.models, count=count, queue=QUEUE, state=state)
    async with app.engine.begin() as conn:
        await conn.execute(stmt)


async def _claims(app: Chancy, up_to: int, repeats: int) -> list[float]:
    """Claim times through the worker's own claim (its producer, engine and settings)."""
    worker = Worker(app, queues=[QUEUE], register_signal_handlers=False)
    producer = Producer(worker, Queue(QUEUE))
    times = []
    try:
        for i in range(repeats + WARMUP):
            t = time.perf_counter()
            jobs = await producer.claim(up_to)
            elapsed = (time.perf_counter() - t) * 1000
            if len(jobs) != up_to:
                raise RuntimeError(f"claimed {len(jobs)} jobs, expected {up_to}")
            if i >= WARMUP:  # the first claims warm the pool, the plan cache and the buffers
                times.append(elapsed)
    finally:
        await worker.engine.dispose()
    return times
