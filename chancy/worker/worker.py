"""The worker process: claims jobs from the queues it serves and runs them.

A worker is a set of cooperating loops on one event loop: a producer per queue (claim
into free slots), the executors, one batched completer, a heartbeat, the queue
watcher that follows configuration changes, the notification listener, and the plugins.
Every loop survives database outages by logging and backing off.
"""

from __future__ import annotations

import asyncio
import functools
import platform
import signal
import socket
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import chancy.worker.logs as logs
import chancy.worker.outcomes as outcomes
import chancy.worker.shutdown as shutdown
from chancy.app import Chancy
from chancy.backoff import DatabaseRetry
from chancy.db.listener import Listener
from chancy.errors import MigrationsNeededError, PluginDependencyError
from chancy.executors.base import Executor, ResultNotReturned
from chancy.hub import Hub
from chancy.job import QueuedJob
from chancy.loops import wait_for_event
from chancy.queue import Queue
from chancy.worker.assignment import QueueAssignment
from chancy.worker.completer import Completer
from chancy.worker.hooks import Hooks
from chancy.worker.notices import Notices
from chancy.worker.registry import Registry
from chancy.worker.results import settle_result
from chancy.worker.tasks import Loops, keep_running
from chancy.worker.undeclared import UndeclaredQueues

__all__ = ["Worker"]


class Worker:
    """Runs jobs for a :class:`Chancy` app. Use it as an async context manager::

        async with Worker(chancy) as worker:
            await worker.wait_for_shutdown()

    ``shutdown_timeout`` bounds how long :meth:`stop` lets running jobs finish before it
    interrupts them and puts them back in their queue. The claim, queue, heartbeat,
    outcome and notification loops retry database errors with capped exponential
    backoff: from ``backoff_initial`` seconds doubling up to ``backoff_max``; with
    ``backoff_max_retries`` set, the failure after that many consecutive retries stops
    the worker and :meth:`wait_for_shutdown` raises it. Beyond upstream's parameters,
    ``queues`` restricts the worker to the named queues and ``concurrency`` overrides
    the per-worker slots of every queue it serves.
    """

    def __init__(
        self,
        chancy: Chancy,
        *,
        worker_id: str | None = None,
        heartbeat_poll_interval: float = 30,
        heartbeat_timeout: float = 90,
        queue_change_poll_interval: float = 10,
        shutdown_timeout: float = 30,
        tags: set[str] | None = None,
        register_signal_handlers: bool = True,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        backoff_max_retries: int | None = None,
        queues: Iterable[str] | None = None,
        concurrency: int | None = None,
    ) -> None:
        DatabaseRetry.check_settings(backoff_initial, backoff_max, backoff_max_retries)
        if concurrency is not None and (type(concurrency) is not int or concurrency < 1):
            raise ValueError(
                f"Worker concurrency must be 1 or more (or None), got {concurrency!r}."
            )
        self.chancy = chancy
        self.worker_id = worker_id or str(uuid.uuid4())
        self.heartbeat_poll_interval = heartbeat_poll_interval
        self.heartbeat_timeout = heartbeat_timeout
        self.queue_change_poll_interval = queue_change_poll_interval
        self.shutdown_timeout = shutdown_timeout
        self.tags = set(tags or ())
        self.register_signal_handlers = register_signal_handlers
        #: Serve only these queues (None: every queue whose tags match).
        self.queues = set(queues) if queues is not None else None
        #: Per-worker slots for every served queue, overriding each queue's concurrency.
        self.concurrency = concurrency
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.backoff_max_retries = backoff_max_retries
        #: The app's logger, adding ``worker_id`` to every record's ``extra``.
        self.log = logs.WorkerLog(chancy.log, {"worker_id": self.worker_id})
        self.hub = Hub()
        self.is_leader = asyncio.Event()
        self.shutdown_event = asyncio.Event()
        self.hooks = Hooks(list(chancy.plugins.values()), self.log)
        #: Autocommit engine for claims and completions (see make_worker_engine).
        self.engine = chancy.make_worker_engine()
        self.completer = Completer(
            self.engine,
            chancy.models,
            log=self.log,
            after_flush=self._after_flush,
            retry=self.database_retry("Saving job outcomes"),
            prepare=chancy.prepared_statements,
        )
        self.listener: Listener | None = None
        self.assignment = QueueAssignment(self)
        self._producers = self.assignment.producers
        self.notices = Notices(self.assignment, self.log)
        self._loops = Loops(self.loop_failed)
        self._force = asyncio.Event()
        self.registry = Registry(self)
        self.undeclared = UndeclaredQueues(self)
        self._stop_task: asyncio.Task[bool] | None = None
        self._stopped = asyncio.Event()
        self._signals = 0
        self._accepting_updates = True
        #: The error a loop gave up on (backoff_max_retries); wait_for_shutdown raises it.
        self._failure: BaseException | None = None

    # -- the container protocol over the queues this worker serves -------------------
    def __iter__(self) -> Iterator[Queue]:
        return iter([p.queue for p in self._producers.values()])

    def __getitem__(self, name: str) -> Queue:
        return self._producers[name].queue

    def __contains__(self, name: object) -> bool:
        return name in self._producers

    def __len__(self) -> int:
        return len(self._producers)

    @property
    def executors(self) -> dict[str, Executor]:
        return {n: p.executor for n, p in self._producers.items() if p.executor is not None}

    def served_queues(self) -> list[str]:
        """The names of the queues this worker serves now, sorted."""
        return sorted(self._producers)

    def worker_tags(self) -> set[str]:
        """Tags that queue tag patterns are matched against."""
        return {
            "*",
            f"hostname={socket.gethostname()}",
            f"worker_id={self.worker_id}",
            f"python={platform.python_version()}",
            f"os={platform.system()}",
            f"arch={platform.machine()}",
            *self.tags,
        }

    # -- lifecycle ---------------------------------------------------------------------
    async def __aenter__(self) -> Worker:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Check the schema and plugins, start every loop, and return once running."""
        chancy = self.chancy
        if not await chancy.is_up_to_date():
            raise MigrationsNeededError(chancy.prefix)
        for plugin in chancy.plugins.values():
            missing = [d for d in plugin.get_dependencies() if d not in chancy.plugins]
            if missing:
                raise PluginDependencyError(
                    f"Plugin {plugin!r} has unsatisfied dependencies: {missing}. Add the "
                    "plugins providing them to Chancy(plugins=[...])."
                )
        try:
            await self._start_loops()
        except BaseException:
            # Half started (say, the database went away): leave no loop running behind.
            await self._loops.cancel_all()
            raise

    async def _start_loops(self) -> None:
        chancy = self.chancy
        self.notices.subscribe(self.hub)
        self._loops.spawn("completer", self.completer.run())
        if chancy.notifications:
            self.listener = Listener(
                chancy.conninfo,
                chancy.models.channel,
                self.hub.emit,
                log=self.log,
                on_reconnect=self.notices.wake_all,
                retry=self.database_retry("Notification listener"),
            )
            self._loops.spawn("listener", self.listener.run())
            await wait_for_event(self.listener.listening, 10)
        await chancy.declare(Queue("default"))
        # Registered before the first claim, so Recovery never mistakes this worker's
        # fresh jobs for a dead worker's.
        await self.registry.announce_first()
        self._loops.spawn("heartbeat", self.registry.run())
        # One reconcile before the watcher, so the start line can name what is served.
        await self.assignment.refresh()
        self._loops.spawn("queues", self.assignment.watch())
        self._loops.spawn("undeclared", self.undeclared.run())
        await self.hooks.call("on_worker_started", worker=self)
        for plugin in chancy.plugins.values():
            run = functools.partial(plugin.run, self, chancy)
            self._loops.spawn(
                f"plugin:{plugin.get_identifier()}", keep_running(run, self.log, plugin)
            )
        if self.register_signal_handlers:
            shutdown.install_signal_handlers(self._on_signal)
        served = [(p.queue, p.executor) for p in self._producers.values()]
        logs.worker_started(
            self.log, self.worker_id, logs.describe_queues(served, self.concurrency)
        )
        await self.hub.emit("worker.started", {"worker": self})

    def loop_failed(self, name: str, exc: BaseException) -> None:
        """A loop gave up (its retries ran out): stop the worker and report ``exc``."""
        if self._failure is None:
            self._failure = exc
        self.log.error("Worker loop %s stopped (%s); stopping the worker.", name, exc)
        if self._stop_task is None:
            asyncio.ensure_future(self.stop())

    def database_retry(self, name: str) -> DatabaseRetry:
        """Fresh backoff state for one database loop, with this worker's settings."""
        return DatabaseRetry(
            name,
            log=self.log,
            initial=self.backoff_initial,
            maximum=self.backoff_max,
            max_retries=self.backoff_max_retries,
        )

    async def wait_for_shutdown(self) -> None:
        """Wait until the worker has stopped (by :meth:`stop`, a signal, or a loop that
        gave up, whose error is raised here)."""
        await self._stopped.wait()
        if self._stop_task is not None:
            await self._stop_task
        if self._failure is not None:
            raise self._failure

    async def stop(self, *, timeout: float | None = None) -> bool:
        """Stop claiming, let running jobs finish (up to ``shutdown_timeout``), then
        interrupt and requeue the rest, flush outcomes and deregister.

        Returns True when every job finished in time. Safe to call more than once.
        """
        self._stop_claiming()
        if self._stop_task is None:
            self._stop_task = asyncio.create_task(self._stop(timeout), name="chancy:stop")
        return await asyncio.shield(self._stop_task)

    def _stop_claiming(self) -> None:
        """The moment a stop begins (synchronously, before any await): no producer claims
        again, and each wakes to drain."""
        self.shutdown_event.set()
        for producer in self._producers.values():
            producer.retire()

    async def _stop(self, timeout: float | None) -> bool:
        await self._loops.cancel("queues")
        self._stop_claiming()  # producers the queue watcher started meanwhile
        waiting = [p.task for p in self._producers.values() if p.task is not None]
        clean = await shutdown.drain(
            waiting, self.shutdown_timeout if timeout is None else timeout, self._force
        )
        for producer in list(self._producers.values()):
            # Held locally: the producer clears its executor once it stops, which may
            # happen while we await the executor's stop.
            executor = producer.executor
            if executor is not None:
                for job in await executor.stop():
                    await self.job_interrupted(executor, job)
            producer.wake.set()
        await asyncio.gather(*waiting, return_exceptions=True)
        await self._loops.cancel(prefix="plugin:")
        await self.hooks.call("on_worker_stopped", worker=self)
        # Whatever queue_update accepted until now is in the final flush; later calls
        # return False.
        self._accepting_updates = False
        await shutdown.close_completer(self.completer, self._loops.pop("completer"))
        await shutdown.final_flush(self.completer, self.log)
        await self._loops.cancel("heartbeat", "listener")
        await self.registry.deregister()
        await self.engine.dispose()
        await self.hub.emit(
            "worker.stopped" if clean else "worker.shutdown_timeout", {"worker": self}
        )
        logs.worker_stopped(self.log, self.worker_id, clean=clean)
        self._stopped.set()
        return clean

    def _on_signal(self, sig: signal.Signals) -> None:
        self._signals += 1
        if self._signals == 1:
            self.log.info("Received %s: finishing running jobs, then stopping.", sig.name)
            self._stop_claiming()
            asyncio.ensure_future(self.stop())
        else:
            self.log.warning("Received %s again: interrupting running jobs now.", sig.name)
            self._force.set()

    # -- what executors call ------------------------------------------------------------
    async def job_starting(self, executor: Executor, job: QueuedJob) -> QueuedJob:
        return await self.hooks.fold("on_job_starting", job, worker=self)

    async def job_completed(
        self, executor: Executor, job: QueuedJob, *, exc: BaseException | None, result: Any
    ) -> None:
        stored = len(job.errors)
        new = outcomes.after_run(job, exc)
        value = None if isinstance(result, ResultNotReturned) else result
        new = await self.hooks.fold("on_job_completed", new, worker=self, exc=exc, result=value)
        text = None
        if new.state is QueuedJob.State.SUCCEEDED:
            limit = executor.queue.max_result_bytes or self.chancy.max_result_bytes
            new, text, reason = settle_result(new, result, limit=limit)
            if reason is not None:
                logs.result_not_stored(self.log, new, reason)
        logs.job_finished(self.log, new, exc)
        await self.completer.put(outcomes.Outcome(new, stored, text))
        producer = self._producers.get(executor.queue.name)
        if producer is not None:
            producer.job_done()

    async def job_interrupted(self, executor: Executor, job: QueuedJob) -> None:
        """Put back a job this worker's stopping cut short: its attempt is not used."""
        await self.completer.put(outcomes.Outcome(outcomes.requeued(job), len(job.errors)))
        producer = self._producers.get(executor.queue.name)
        if producer is not None:
            producer.job_done()

    async def queue_update(self, update: QueuedJob) -> bool:
        """Queue a running job's new state (say, progress in its ``meta``) for the next
        batched write; :meth:`flush` writes it now.

        As every outcome, it applies only while the job still runs under the same claim.
        An update that leaves the job ``running`` keeps its claim, and error entries
        already stored are not written again. Returns False, writing nothing, once
        :meth:`stop` has stopped accepting updates.
        """
        if not self._accepting_updates:
            return False
        await self.completer.put(outcomes.Outcome(update, self._stored_errors(update)))
        return True

    def _stored_errors(self, job: QueuedJob) -> int:
        """How many of ``job.errors`` the database holds: the claimed copy's count (the
        claim read them), or all of them for a job not running here."""
        for executor in self.executors.values():
            running = executor.running(job.reference)
            if running is not None and running.claim_id == job.claim_id:
                return min(len(running.errors), len(job.errors))
        return len(job.errors)

    async def flush(self) -> int:
        """Write every pending job update now; returns how many were applied."""
        return await self.completer.flush()

    async def _after_flush(self, jobs: list[QueuedJob]) -> None:
        if self.hooks.implemented("on_job_updated"):
            for job in jobs:
                await self.hooks.call("on_job_updated", worker=self, job=job)
        await self.hub.emit("worker.jobs.updated", {"jobs": jobs, "worker": self})

    def queues_changed(self) -> None:
        """Announce the new set of queues now rather than at the next heartbeat."""
        self.registry.wake.set()
