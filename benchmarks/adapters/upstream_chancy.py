"""Adapter for upstream Chancy from PyPI (``chancy==0.26.*``), in its own virtualenv."""

from __future__ import annotations

from importlib.metadata import version

import jobs_chancy
from harness import System, main

from chancy import Chancy, Job, Queue, Worker

QUEUE = "bench"


class Upstream(System):
    name = "chancy 0.26"
    remaining_sql = (
        "SELECT count(*) FROM chancy_jobs WHERE state IN ('pending', 'running', 'retrying')"
    )

    async def setup(self) -> None:
        # No default plugins, as for ours: both measure the bare queue.
        self.app = Chancy(self.dsn, no_default_plugins=True)
        await self.app.migrate()
        # Worker.start() declares "default" with the process executor unless it exists;
        # declare it first (async, one slot) so no process pool competes for the CPU.
        await self.app.declare(
            Queue("default", concurrency=1, executor=Chancy.Executor.Async), upsert=True
        )
        self.job = Job.from_func(jobs_chancy.noop, queue=QUEUE)
        self.sync_job = Job.from_func(jobs_chancy.noop_sync, queue=QUEUE)
        self.worker: Worker | None = None

    async def close(self) -> None:
        await self.app.__aexit__(None, None, None)

    async def enqueue_many(self, n: int, sync: bool = False) -> None:
        job = self.sync_job if sync else self.job
        async for _ in self.app.push_many([job] * n, batch_size=1000):
            pass

    async def enqueue_one(self) -> None:
        await self.app.push(self.job)

    async def start_worker(self, concurrency: int) -> None:
        # eager_polling: re-poll as each job completes. Without it 0.26 claims at most
        # `concurrency` jobs per 5 s poll (a drain of ~20 jobs/s at concurrency 100).
        queue = Queue(
            QUEUE, concurrency=concurrency, executor=Chancy.Executor.Async, eager_polling=True
        )
        await self.app.declare(queue, upsert=True)
        self.worker = Worker(self.app, register_signal_handlers=False)
        await self.worker.start()

    async def start_worker_with(self, executor: str, concurrency: int) -> None:
        path = Chancy.Executor.Threaded if executor == "threaded" else Chancy.Executor.Process
        queue = Queue(QUEUE, concurrency=concurrency, executor=path, eager_polling=True)
        await self.app.declare(queue, upsert=True)
        self.worker = Worker(self.app, register_signal_handlers=False)
        await self.worker.start()

    async def stop_worker(self) -> None:
        if self.worker is not None:
            await self.worker.stop()

    def version(self) -> str:
        return version("chancy")


if __name__ == "__main__":
    main(Upstream)
