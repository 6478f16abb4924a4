"""Claim time on a big table: millions of finished rows plus a pending backlog.

The claim statement is the worker's own (``build_fetch``), timed from the client around
its transaction, so the number includes the round trips a worker pays. Finished rows
share the claimed queue, the worst case for an index that did not exclude them.
"""

from __future__ import annotations

import time

from chancy.app import Chancy
from chancy.bench.common import Progress, Sizes, fresh_app, vacuum
from chancy.bench.report import Report, Row, median, percentile
from chancy.db.statements import bench as bench_sql
from chancy.db.statements import jobs as jobs_sql

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
        pending = max(sizes.big_pending, (sizes.claim_repeats + WARMUP) * 101)
        await _fill(app, pending, "pending")
        await vacuum(app)
        load = time.perf_counter() - load_start
        async with app.engine.connect() as conn:
            size = (await conn.execute(bench_sql.build_table_size(app.models))).scalar_one()
        for up_to in (1, 100):
            progress(f"bigtable: claim {up_to} x{sizes.claim_repeats}")
            times = await _claims(app, up_to, sizes.claim_repeats)
            p50 = median(times)
            report.add(
                Row(
                    "bigtable",
                    f"claim {up_to}",
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
    stmt = jobs_sql.build_fetch(app.models)
    params = jobs_sql.fetch_params(QUEUE, up_to, "bench")
    times = []
    for i in range(repeats + WARMUP):
        t = time.perf_counter()
        async with app.engine.begin() as conn:
            rows = (await conn.execute(stmt, params)).all()
        elapsed = (time.perf_counter() - t) * 1000
        if len(rows) != up_to:
            raise RuntimeError(f"claimed {len(rows)} jobs, expected {up_to}")
        if i >= WARMUP:  # the first claims warm the pool, the plan cache and the buffers
            times.append(elapsed)
    return times
