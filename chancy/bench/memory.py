"""Worker memory: resident set size before and after a long drain.

The worker runs in a child process (``python -m chancy.bench.memchild``) so that nothing
the parent allocated while pushing counts against it. The baseline is taken after a
warm-up drain, once imports, pools and caches exist; growth past it is what a
long-running worker would keep accumulating.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from typing import Any

import chancy.bench.jobs as bench_jobs
from chancy.app import Chancy
from chancy.bench.common import (
    CompletionCounter,
    Progress,
    Sizes,
    bench_queue,
    fresh_app,
    make_worker,
    push_bulk,
    queue_summary,
    vacuum,
)
from chancy.bench.report import Report, Row, rss_mb
from chancy.job import Job

QUEUE = "bench_memory"
ASYNC = "chancy.executors.asyncex.AsyncExecutor"
CONCURRENCY = 100


async def run(dsn: str, sizes: Sizes, report: Report, progress: Progress) -> None:
    total = sizes.memory_warmup + sizes.memory_jobs
    async with fresh_app(dsn) as app:
        await app.declare(bench_queue(QUEUE, ASYNC, CONCURRENCY, sizes.polling_interval))
        progress(f"memory: pushing {total:,} jobs")
        jobs = [Job(func=bench_jobs.NOOP, queue=QUEUE) for _ in range(total)]
        await push_bulk(app, jobs, batch_size=5000)
        del jobs
        await vacuum(app)  # fresh statistics, as in the drain suite
        progress(f"memory: draining {sizes.memory_jobs:,} jobs in a child worker")
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "chancy.bench.memchild",
            json.dumps(
                {"dsn": dsn, "prefix": app.prefix, "warmup": sizes.memory_warmup, "n": total}
            ),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await child.communicate()
        summary = await queue_summary(app, QUEUE)
    if child.returncode != 0:
        report.add(
            Row(
                "memory",
                "worker RSS growth",
                None,
                "MB",
                note=f"FAILED: child exited {child.returncode}",
            )
        )
        return
    data = json.loads(out.decode().strip().splitlines()[-1])
    ok = data["finished"] and summary.succeeded == total
    growth = data["after"] - data["before"]
    report.add(
        Row(
            "memory",
            f"worker RSS growth over {sizes.memory_jobs:,} jobs",
            growth if ok else None,
            "MB",
            detail=f"VmRSS {data['before']:.1f} -> {data['after']:.1f} MB (peak "
            f"{data['peak']:.1f}); async x{CONCURRENCY}",
            target="<= 20 MB",
            met=growth <= 20 if ok else None,
            note="" if ok else f"FAILED: {summary.succeeded:,} of {total:,} succeeded",
            extra=data,
        )
    )


async def child(dsn: str, prefix: str, warmup: int, n: int) -> dict[str, Any]:
    """Drain ``n`` jobs; RSS after the first ``warmup`` and after the rest."""
    app = Chancy(dsn, prefix=prefix, no_default_plugins=True)
    try:
        warm = CompletionCounter(warmup)
        counter = CompletionCounter(n)
        peak = 0.0

        def sample(event: Any) -> None:
            nonlocal peak
            peak = max(peak, rss_mb())

        async with make_worker(app, [QUEUE]) as worker:
            worker.hub.on("worker.jobs.updated", warm)
            worker.hub.on("worker.jobs.updated", counter)
            worker.hub.on("worker.jobs.updated", sample)
            await warm.wait()
            gc.collect()
            before = rss_mb()
            finished = await counter.wait()
            gc.collect()
            after = rss_mb()
        return {"before": before, "after": after, "peak": peak, "finished": finished}
    finally:
        await app.__aexit__(None, None, None)
