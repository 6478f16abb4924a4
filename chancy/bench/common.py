"""Sizes, fresh apps and the drain-and-wait helper shared by the suites."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from chancy.app import Chancy
from chancy.db.statements import bench as bench_sql
from chancy.hub import Event
from chancy.job import Job
from chancy.loops import wait_for_event
from chancy.queue import Queue
from chancy.testing import isolated_chancy, random_prefix
from chancy.worker import Worker

Progress = Callable[[str], None]


@dataclasses.dataclass
class Sizes:
    """How much work each suite does. ``quick()`` is small enough for a smoke test."""

    push_single: int = 5_000
    push_many: int = 100_000
    push_many_ex: int = 100_000
    drain: int = 50_000
    async_concurrency: tuple[int, ...] = (10, 100, 500)
    #: Which executors the drain suite runs ("async", "threaded", "process").
    executors: tuple[str, ...] = ("async", "threaded", "process")
    latency_samples: int = 500
    #: Seconds between pushes when notifications are off (open loop, polling).
    latency_gap: float = 0.02
    polling_interval: float = 1.0
    big_finished: int = 5_000_000
    big_pending: int = 40_000
    claim_repeats: int = 25
    memory_jobs: int = 200_000
    memory_warmup: int = 5_000

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            push_single=200,
            push_many=2_000,
            push_many_ex=2_000,
            drain=1_000,
            async_concurrency=(10, 100),
            latency_samples=30,
            latency_gap=0.01,
            polling_interval=0.2,
            big_finished=20_000,
            big_pending=2_000,
            claim_repeats=5,
            memory_jobs=2_000,
            memory_warmup=200,
        )

    def with_jobs(self, jobs: int) -> Sizes:
        """Scale the bulk sizes to ``jobs`` (enqueue and drain counts, memory x4)."""
        return dataclasses.replace(
            self,
            push_single=max(1, jobs // 10),
            push_many=jobs,
            push_many_ex=jobs,
            drain=jobs,
            memory_jobs=jobs * 4,
            memory_warmup=max(1, min(self.memory_warmup, jobs // 10)),
        )


def executor_available(path: str) -> bool:
    """Whether an executor's module exists (others are still being written)."""
    module = path.rsplit(".", 1)[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@contextlib.asynccontextmanager
async def fresh_app(dsn: str, **options: Any) -> AsyncIterator[Chancy]:
    """A migrated app on a fresh ``bench_`` prefix, dropped afterwards."""
    options.setdefault("no_default_plugins", True)
    async with isolated_chancy(dsn, prefix=random_prefix("bench"), **options) as app:
        yield app


async def reset_jobs(app: Chancy) -> None:
    """TRUNCATE, then VACUUM ANALYZE, so each run starts from the same table."""
    async with app.engine.begin() as conn:
        await conn.execute(bench_sql.build_truncate_jobs(app.models))
    await vacuum(app)


async def vacuum(app: Chancy) -> None:
    async with app.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.execute(bench_sql.build_vacuum_analyze(app.models))


async def push_bulk(app: Chancy, jobs: list[Job], batch_size: int = 1000) -> int:
    pushed = 0
    async for refs in app.push_many(jobs, batch_size=batch_size):
        pushed += len(refs)
    return pushed


async def queue_summary(app: Chancy, queue: str) -> Any:
    async with app.engine.connect() as conn:
        return (await conn.execute(bench_sql.build_queue_summary(app.models, queue))).one()


class CompletionCounter:
    """Counts outcomes the worker's completer has committed, from its hub events."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.count = 0
        self.done = asyncio.Event()
        self.last_progress = time.monotonic()
        if target <= 0:
            self.done.set()

    def __call__(self, event: Event) -> None:
        self.count += len(event.body.get("jobs", ()))
        self.last_progress = time.monotonic()
        if self.count >= self.target:
            self.done.set()

    async def wait(self, stall_timeout: float = 60.0) -> bool:
        """True once ``target`` outcomes are in; False if nothing happened for a while."""
        while not self.done.is_set():
            await wait_for_event(self.done, 1.0)
            if time.monotonic() - self.last_progress > stall_timeout:
                return False
        return True


def bench_queue(name: str, executor: str, concurrency: int, polling: float = 1.0) -> Queue:
    return Queue(name, concurrency=concurrency, executor=executor, polling_interval=polling)


def make_worker(app: Chancy, queues: list[str], **options: Any) -> Worker:
    """A worker serving only ``queues``, without signal handlers."""
    return Worker(app, queues=queues, register_signal_handlers=False, **options)


async def queue_running(worker: Worker, name: str, timeout: float = 10.0) -> bool:
    """Wait until the worker has an executor for ``name`` (it may already have one)."""
    deadline = time.monotonic() + timeout
    while name not in worker.executors:
        if time.monotonic() > deadline:
            return False
        await worker.hub.wait_for("worker.queue.started", timeout=0.1)
    return True
