"""A fake :class:`~chancy.worker.context.WorkerContext` for driving the worker's parts
without a worker or a database.

It holds exactly what the Protocol names; its callbacks only count their calls, so a
test sees what a part asked of the worker.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from chancy.backoff import DatabaseRetry
from chancy.hub import Hub

LOG = logging.getLogger("tests.unit.fake_worker")


class FakeContext:
    """The WorkerContext a part sees, with no app, engine or loops behind it."""

    def __init__(
        self,
        *,
        queues: set[str] | None = None,
        concurrency: int | None = None,
        tags: set[str] | None = None,
    ) -> None:
        self.worker_id = "fake-worker"
        self.chancy: Any = None  # the parts under test never reach the app
        self.engine: Any = None
        self.hub = Hub(log=LOG)
        self.log = LOG
        self.shutdown_event = asyncio.Event()
        self.is_leader = asyncio.Event()
        self.queues = queues
        self.concurrency = concurrency
        self.tags = tags if tags is not None else {"*"}
        self.heartbeat_poll_interval = 30.0
        self.heartbeat_timeout = 90.0
        self.queue_change_poll_interval = 10.0
        self.changes = 0
        self.failures: list[tuple[str, BaseException]] = []
        self.served: list[str] = []

    def worker_tags(self) -> set[str]:
        return set(self.tags)

    def served_queues(self) -> list[str]:
        return sorted(self.served)

    def database_retry(self, name: str) -> DatabaseRetry:
        return DatabaseRetry(name, log=LOG, initial=0, maximum=0)

    def queues_changed(self) -> None:
        self.changes += 1

    def loop_failed(self, name: str, exc: BaseException) -> None:
        self.failures.append((name, exc))

    async def job_starting(self, executor: Any, job: Any) -> Any:
        return job

    async def job_completed(self, executor: Any, job: Any, *, exc: Any, result: Any) -> None:
        return None

    async def job_interrupted(self, executor: Any, job: Any) -> None:
        return None
