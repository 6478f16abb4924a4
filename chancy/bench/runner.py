"""``chancy bench``: run the suites on fresh prefixes and print one table.

River's ``river bench`` is the model: a command anyone can run against their own
Postgres to get numbers for their own machine, with the server settings that explain
them printed alongside.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import chancy.bench.bigtable as bigtable
import chancy.bench.drain as drain
import chancy.bench.enqueue as enqueue
import chancy.bench.latency as latency
import chancy.bench.memory as memory
from chancy.bench.common import Progress, Sizes
from chancy.bench.report import Report, machine_info
from chancy.db import engine as engines
from chancy.db.statements import bench as bench_sql

Suite = Callable[[str, Sizes, Report, Progress], Awaitable[None]]

SUITES: dict[str, Suite] = {
    "enqueue": enqueue.run,
    "drain": drain.run,
    "latency": latency.run,
    "bigtable": bigtable.run,
    "memory": memory.run,
}


async def server_info(dsn: str) -> dict[str, Any]:
    """Postgres version and the settings that move queue throughput most."""
    engine = engines.make_async_engine(engines.to_url(dsn), pool_size=1)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(bench_sql.build_server_info())).one()._mapping
    finally:
        await engine.dispose()
    info = {"postgres": str(row["version"]).split(" on ")[0]}
    settings = ", ".join(f"{k}={row[k]}" for k in bench_sql.REPORTED_SETTINGS)
    info["settings"] = settings
    return info


async def run_bench(
    dsn: str,
    *,
    suites: Sequence[str] = tuple(SUITES),
    jobs: int | None = None,
    quick: bool = False,
    sizes: Sizes | None = None,
    progress: Progress | None = None,
) -> Report:
    """Run ``suites`` against ``dsn`` and return the report.

    Each suite works on its own random table prefix, created and dropped here, so a
    benchmark never touches an application's tables. ``quick`` shrinks every size;
    ``jobs`` sets the enqueue and drain counts.
    """
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        raise ValueError(f"Unknown suite(s) {unknown}; choose from {sorted(SUITES)}.")
    if sizes is None:
        sizes = Sizes.quick() if quick else Sizes()
    if jobs is not None:
        sizes = sizes.with_jobs(jobs)
    say = progress or (lambda _msg: None)
    report = Report(env={**await server_info(dsn), **machine_info()})
    for name in suites:
        start = time.perf_counter()
        await SUITES[name](dsn, sizes, report, say)
        say(f"{name}: done in {time.perf_counter() - start:.1f} s")
    return report


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="chancy bench",
        description="Measure enqueue, drain, latency, big-table claims and worker memory "
        "on fresh table prefixes (dropped afterwards).",
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("CHANCY_DSN", "postgresql://localhost/postgres"),
        help="Postgres DSN (default: $CHANCY_DSN)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke run")
    parser.add_argument("--jobs", type=int, help="jobs per enqueue/drain case")
    parser.add_argument(
        "--suite",
        default=",".join(SUITES),
        help=f"comma-separated suites (default: all of {','.join(SUITES)})",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"# {msg}", file=sys.stderr, flush=True)

    try:
        report = asyncio.run(
            run_bench(args.dsn, suites=suites, jobs=args.jobs, quick=args.quick, progress=progress)
        )
    except ValueError as exc:
        print(f"chancy bench: {exc}", file=sys.stderr)
        return 2
    print(report.table())
    if args.json:
        with open(args.json, "w") as f:
            f.write(report.to_json())
    return 0
