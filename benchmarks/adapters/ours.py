"""Adapter for this repository's chancy (run with the project's virtualenv)."""

from __future__ import annotations

import jobs_chancy
from harness import System, main

from chancy import Chancy, Job, Queue
from chancy.worker import Worker

QUEUE = "bench"


class Ours(System):
    name = "ours"
    remaining_sql = (
        "SELECT count(*) FROM chancy_jobs WHERE state IN ('pending', 'running', 'retrying')"
    )

    async def setup(self) -> None:
        self.app = Chancy(self.dsn, no_default_plugins=True)
        await self.app.migrate()
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
        queue = Queue(QUEUE, concurrency=concurrency, executor=Chancy.Executor.Async)
        await self.app.declare(queue, upsert=True)
        self.worker = Worker(self.app, queues=[QUEUE], register_signal_handlers=False)
        await self.worker.start()

    async def start_worker_with(self, executor: str, concurrency: int) -> None:
        path = Chancy.Executor.Threaded if executor == "threaded" else Chancy.Executor.Process
        await self.app.declare(Queue(QUEUE, concurrency=concurrency, executor=path), upsert=True)
        self.worker = Worker(self.app, queues=[QUEUE], register_signal_handlers=False)
        await self.worker.start()

    async def stop_worker(self) -> None:
        if self.worker is not None:
            await self.worker.stop()

    def version(self) -> str:
        import subprocess

        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        return f"git {rev.stdout.strip()}"


if __name__ == "__main__":
    main(Ours)
