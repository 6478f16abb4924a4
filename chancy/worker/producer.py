"""The producer: one loop per queue that claims jobs into its executor's free slots.

Each pass claims at most the free slots with one statement, so a worker never holds a
job it cannot start. A pass runs when a ``queue.pushed`` notification arrives, when a
slot frees after a full claim (more work is likely waiting), on every completion with
``eager_polling``, and otherwise every ``polling_interval`` seconds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg

from chancy.app.driver import HotStatement, leased_connection
from chancy.db.claimed import claimed_jobs
from chancy.db.statements import jobs as jobs_sql
from chancy.db.statements import queues as queues_sql
from chancy.executors.base import Executor
from chancy.job import QueuedJob
from chancy.loops import FAILED, attempt, wait_for_event
from chancy.queue import Queue
from chancy.utils import import_string
from chancy.worker.context import WorkerContext

#: Event-loop turns a producer waits for more slots to free before it claims.
LANDING_TURNS = 8


class Producer:
    """Serves one queue. Its state changes only through its own methods: :meth:`retire`,
    :meth:`replace_with` and :meth:`apply_live`; ``on_retired`` is called once it has
    drained and stopped for good."""

    def __init__(
        self,
        worker: WorkerContext,
        queue: Queue,
        *,
        on_retired: Callable[[Producer], None] | None = None,
    ) -> None:
        self.worker = worker
        self.queue = queue
        self.on_retired = on_retired
        self.wake = asyncio.Event()
        self.executor: Executor | None = None
        #: A changed configuration to restart with once the executor drains.
        self.replacement: Queue | None = None
        #: Set when the queue was deleted, untagged, or the worker is stopping.
        self.retiring = False
        self._last_claim_full = False
        self.task: asyncio.Task[None] | None = None
        self.retry = worker.database_retry(f"Claiming from queue {queue.name!r}")

    def retire(self) -> None:
        """Stop claiming now and drain: the queue was deleted or untagged, or the worker
        is stopping."""
        self.retiring = True
        self.wake.set()

    def replace_with(self, queue: Queue) -> None:
        """Drain, then restart with ``queue``; also takes back a retire not yet finished
        (a queue deleted and declared again before it drained)."""
        self.retiring = False
        self.replacement = queue
        self.wake.set()

    async def apply_live(self, queue: Queue) -> None:
        """Follow a change the running executor can take without a restart (pause,
        resume), and say so on the hub."""
        self.queue = queue
        await self.worker.hub.emit(
            "worker.queue.updated",
            {"queue": queue, "executor": self.executor, "worker": self.worker},
        )
        self.wake.set()

    @property
    def may_claim(self) -> bool:
        """False from the instant the queue retires or the worker begins to stop."""
        return not (self.retiring or self.worker.shutdown_event.is_set())

    def make_executor(self, queue: Queue) -> Executor:
        try:
            cls = import_string(queue.executor)
        except ImportError as exc:
            raise ImportError(
                f"Queue {queue.name!r} names executor {queue.executor!r}, which cannot be "
                f"imported ({exc}). Use one of Chancy.Executor or a valid import path."
            ) from exc
        return cls(self.worker, queue, **queue.executor_options)

    async def run(self) -> None:
        hub = self.worker.hub
        while True:
            executor = self.executor = self.make_executor(self.queue)
            body = {"queue": self.queue, "executor": executor, "worker": self.worker}
            await hub.emit("worker.queue.started", body)
            self.wake.set()
            try:
                await self._serve(executor)
            finally:
                await executor.stop()
            if self.replacement is None or not self.may_claim:
                # Gone from the worker before anyone hears it was removed.
                self.executor = None
                if self.on_retired is not None:
                    self.on_retired(self)
                await hub.emit("worker.queue.removed", body)
                return
            self.queue, self.replacement = self.replacement, None
            await hub.emit("worker.queue.updated", body | {"queue": self.queue})

    async def _serve(self, executor: Executor) -> None:
        backoff = self.retry
        while True:
            await wait_for_event(self.wake, self._next_poll())
            self.wake.clear()
            if not self.may_claim or self.replacement is not None:
                if len(executor) == 0:
                    return
                continue  # draining: each completion wakes us to check again
            if not await self._active():
                continue
            await self._let_completions_land(executor)
            free = executor.free_slots
            if free <= 0:
                await self.worker.hub.emit(
                    "worker.queue.full",
                    {"queue": self.queue, "executor": executor, "worker": self.worker},
                )
                continue
            jobs = await attempt(lambda: self.claim(free), backoff)  # noqa: B023 (awaited here)
            if jobs is FAILED:
                self.wake.set()
                continue
            self._last_claim_full = len(jobs) == free
            for job in jobs:
                await executor.push(job)

    @staticmethod
    async def _let_completions_land(executor: Executor) -> None:
        """Give runs that have just ended a few event-loop turns to free their slots, so
        one claim fills them all.

        A run ending in a thread reaches its slot three loop turns after the thread
        returns (the future, the waiting task, the executor), so a producer woken by the
        first slot to free claimed for that one alone: the threaded executor's 4 slots
        were refilled 2.3 jobs per claim (3.5-4.0 with these turns, about twice the
        drain rate). At most :data:`LANDING_TURNS` turns, none once every slot is free.
        """
        for _ in range(LANDING_TURNS):
            if executor.free_slots >= executor.concurrency:
                return
            await asyncio.sleep(0)

    def _next_poll(self) -> float:
        """Seconds until the next pass: the polling interval, or sooner if a pause ends."""
        interval = float(self.queue.polling_interval)
        resume_at = self.queue.resume_at
        if self.queue.state == Queue.State.PAUSED and resume_at is not None:
            until = (resume_at - dt.datetime.now(dt.UTC)).total_seconds()
            interval = min(interval, max(until, 0.0))
        return interval

    async def _active(self) -> bool:
        if self.queue.state != Queue.State.PAUSED:
            return True
        resume_at = self.queue.resume_at
        if resume_at is None or resume_at > dt.datetime.now(dt.UTC):
            return False
        await self.worker.chancy.resume_queue(self.queue.name)
        self.queue = Queue.unpack(self.queue.pack() | {"state": "active", "resume_at": None})
        return True

    async def claim(self, up_to: int) -> list[QueuedJob]:
        """Claim up to ``up_to`` jobs, within the queue's rate limit if it has one.

        Without a rate limit the claim is a single autocommit statement: one round trip.
        With one, the window check, the claim and the spend share a transaction.
        """
        chancy = self.worker.chancy
        models = chancy.models
        queue = self.queue
        worker_id = self.worker.worker_id
        # The claim runs on the driver connection, prepared, JSON left as text: the job
        # objects are built by claimed_jobs, decoding only non-empty JSON.
        hot = HotStatement.of(jobs_sql.build_fetch(models), self.worker.engine.dialect)
        if not (queue.rate_limit and queue.rate_limit_window):
            async with leased_connection(self.worker.engine) as raw:
                if not self.may_claim:  # stop began while a connection was checked out
                    return []
                rows = await self._run_claim(hot, raw, up_to)
            return claimed_jobs(rows, queue=queue.name, worker_id=worker_id)
        async with chancy.engine.begin() as conn:
            await conn.execute(jobs_sql.build_claim_plan_setting(local=True))
            window = queues_sql.build_take_window(models, queue.name, queue.rate_limit_window)
            used = (await conn.execute(window)).scalar_one()
            allowed = min(up_to, queue.rate_limit - used)
            if allowed <= 0 or not self.may_claim:
                return []
            raw = (await conn.get_raw_connection()).driver_connection
            rows = await self._run_claim(hot, raw, allowed)
            if rows:
                await conn.execute(queues_sql.build_spend_window(models, queue.name, len(rows)))
        return claimed_jobs(rows, queue=queue.name, worker_id=worker_id)

    async def _run_claim(
        self, hot: HotStatement, raw: psycopg.AsyncConnection[Any], up_to: int
    ) -> list[Any]:
        """The claim's rows, on the driver connection ``raw`` (in its transaction, if any)."""
        chancy = self.worker.chancy
        params = jobs_sql.fetch_params(self.queue.name, up_to, self.worker.worker_id)
        with chancy._translating_errors(hot.sql, translate=False):
            return await hot.run(raw, params, prepare=chancy.prepared_statements, json_as_text=True)

    def job_done(self) -> None:
        """A slot freed: claim again if more work is likely, or if we are draining."""
        if (
            self.queue.eager_polling
            or self._last_claim_full
            or not self.may_claim
            or self.replacement is not None
        ):
            self.wake.set()
