"""Adapter for procrastinate (psycopg connector), in its own virtualenv."""

from __future__ import annotations

import asyncio
import contextlib
from importlib.metadata import version
from typing import Any

import harness
import procrastinate
from harness import System, main


class Procrastinate(System):
    name = "procrastinate"
    remaining_sql = "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"

    async def setup(self) -> None:
        self.app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=self.dsn))

        @self.app.task(name="noop")
        async def noop() -> None:
            harness.job_ran()

        self.noop = noop
        await self.app.open_async()
        await self.app.schema_manager.apply_schema_async()
        self.worker: asyncio.Task[Any] | None = None

    async def close(self) -> None:
        await self.app.close_async()

    async def enqueue_many(self, n: int, sync: bool = False) -> None:
        await self.noop.batch_defer_async(*({} for _ in range(n)))

    async def enqueue_one(self) -> None:
        await self.noop.defer_async()

    async def start_worker(self, concurrency: int) -> None:
        self.worker = asyncio.create_task(
            self.app.run_worker_async(concurrency=concurrency, install_signal_handlers=False)
        )

    async def stop_worker(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self.worker, 60)

    def version(self) -> str:
        return version("procrastinate")


if __name__ == "__main__":
    main(Procrastinate)
