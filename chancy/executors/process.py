"""Run each job in a child process: the default executor, and the only one that can
stop any job at once (a TIME limit, a cancellation) and cap its memory."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import multiprocessing
import os
from multiprocessing.context import BaseContext
from typing import Any

from chancy.executors.base import Executor, JobCancelledError, cpu_count
from chancy.executors.calling import time_limit_error
from chancy.executors.child import resource
from chancy.executors.handle import ChildExitedError, ChildHandle
from chancy.job import Limit, QueuedJob, Reference

__all__ = ["ProcessExecutor", "resource"]

log = logging.getLogger("chancy.executors")


class ProcessExecutor(Executor):
    """A pool of up to ``concurrency`` child processes, each running one job at a time.

    The pool is managed here rather than by :class:`concurrent.futures.ProcessPoolExecutor`
    because jobs must be killable one by one: killing a child of that pool breaks the
    whole pool. A killed or crashed child fails only its own job and is replaced.

    - Children are started by a fork server (``forkserver``) where the platform has
      one, and by ``spawn`` elsewhere; ``mp_context`` (a context or a method name)
      overrides that. The fork server imports chancy once and forks warm children in
      milliseconds, where a spawned child spends a CPU-second or more importing chancy
      and SQLAlchemy, which matters every time a child is replaced (time limits,
      cancellations, ``maximum_jobs_per_worker``). ``"fork"`` is unsafe in a process
      running threads and an event loop; don't use it.
    - Either way each child imports the worker's ``__main__`` script again (as
      ``__mp_main__``), so the script must keep its startup code under
      ``if __name__ == "__main__":``; in return, jobs defined in it resolve in children.
    - One child is started as soon as the executor is, and more on demand, so the first
      job does not wait for a cold start; a child that is replaced gets its successor
      started at once. A child is replaced after ``maximum_jobs_per_worker`` jobs
      (``None`` or 0: never), to bound leaks.
    - ``Limit(TIME)``: at the deadline the child is killed (SIGKILL) and the job fails
      with ``TimeoutError``; a job may also stop itself earlier through
      ``QueuedJob.checkpoint()`` / ``time_remaining``.
    - ``Limit(MEMORY)``: the child's address space (``RLIMIT_AS``, the interpreter
      included: about 90 MB before the job does anything) is capped while the job runs,
      so big allocations raise ``MemoryError``; the child is replaced afterwards.
      Platforms without :mod:`resource` (Windows) refuse such jobs.
    - :meth:`cancel` kills the child running the job; the job fails and is not retried.
    - Children and the fork server ignore SIGINT and SIGTERM: a stop sent to the whole
      process group (Ctrl-C, systemd, Kubernetes) is the worker's, which lets running
      jobs finish. A child lost once the worker is stopping puts its job back in the
      queue (its attempt not counted) instead of failing it.
    - Kwargs and results cross a pipe. A result that can't be pickled (or rebuilt in
      the worker) arrives as a :class:`~chancy.executors.base.ResultNotReturned`, so the
      job still succeeds and the reason is recorded; exceptions that cannot be pickled
      still fail the job with their full traceback.
    """

    capabilities = (
        Executor.Capability.SYNC_JOBS
        | Executor.Capability.ASYNC_JOBS
        | Executor.Capability.CANCELLATION
        | Executor.Capability.AUTOMATIC_TIME_LIMITS
    )
    #: Seconds an idle child gets to exit when asked, at shutdown.
    stop_timeout: float = 5.0

    def __init__(
        self,
        worker: Any,
        queue: Any,
        *,
        maximum_jobs_per_worker: int | None = 100,
        mp_context: BaseContext | str | None = None,
    ) -> None:
        super().__init__(worker, queue)
        if isinstance(mp_context, str) or mp_context is None:
            mp_context = multiprocessing.get_context(mp_context or default_start_method())
        if mp_context.get_start_method() == "forkserver":
            _preload_in_forkserver(mp_context)
        self.context: BaseContext = mp_context
        self.maximum_jobs_per_worker = maximum_jobs_per_worker
        self.idle: list[ChildHandle] = []
        self.children: set[ChildHandle] = set()
        #: The child running each job, by job id.
        self.running_on: dict[Any, ChildHandle] = {}
        self.tasks: dict[Any, asyncio.Task[None]] = {}
        self.cancelled: set[Any] = set()
        self.closing = False
        self._background: set[asyncio.Task[Any]] = set()
        with contextlib.suppress(RuntimeError):  # no running loop: start children on demand
            asyncio.get_running_loop()
            try:
                self.idle.append(self._spawn())
            except Exception as exc:  # e.g. out of file descriptors: retried per job
                log.warning("Could not start a child process for queue %r: %s", queue.name, exc)

    @classmethod
    def get_default_concurrency(cls) -> int:
        return cpu_count()

    @classmethod
    def get_capabilities(cls) -> Executor.Capability:
        """Memory limits need ``RLIMIT_AS`` (not on Windows)."""
        if resource is not None and hasattr(resource, "RLIMIT_AS"):
            return cls.capabilities | Executor.Capability.MEMORY_LIMITS
        return cls.capabilities

    @classmethod
    def on_initialize_worker(cls) -> None:
        """Runs once in each new child before it takes jobs; override to set up state.

        By default it calls ``django.setup()`` when ``DJANGO_SETTINGS_MODULE`` is set.
        """
        if os.environ.get("DJANGO_SETTINGS_MODULE"):
            with contextlib.suppress(ImportError):
                import django

                django.setup()

    # -- the pool -------------------------------------------------------------------------
    def _spawn(self) -> ChildHandle:
        cls = type(self)
        child = ChildHandle(self.context, cls.prepare_job_for_execution, cls.on_initialize_worker)
        self.children.add(child)
        child.exited.add_done_callback(lambda _: self._forget(child))
        return child

    def _forget(self, child: ChildHandle) -> None:
        self.children.discard(child)
        with contextlib.suppress(ValueError):
            self.idle.remove(child)

    def _acquire(self) -> ChildHandle:
        """An idle child, preferring one that is ready over one still starting."""
        self.idle = [c for c in self.idle if not c.doomed and not c.exited.done()]
        if not self.idle:
            return self._spawn()
        ready = [c for c in self.idle if c.ready.done()]
        child = ready[-1] if ready else self.idle[0]  # warmest, or the one started first
        self.idle.remove(child)
        return child

    def _release(self, child: ChildHandle) -> None:
        limit = self.maximum_jobs_per_worker
        if limit and child.jobs_run >= limit:
            child.doomed = True
        if child.busy:  # its job was abandoned mid-run (the task was cancelled)
            self._in_background(child.kill())
            self._replenish()
        elif self.closing or child.doomed:
            self._in_background(child.stop(self.stop_timeout))
            self._replenish()
        else:
            self.idle.append(child)

    def _replenish(self) -> None:
        """Start a replacement for a retired or killed child right away, so the next
        job finds it warm instead of waiting for a cold start."""
        live = sum(1 for child in self.children if not child.doomed)
        if not self.closing and live < self.concurrency:
            self.idle.append(self._spawn())

    def _in_background(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- running jobs ---------------------------------------------------------------------
    def start(self, job: QueuedJob) -> None:
        self.tasks[job.id] = asyncio.create_task(self._run(job), name=f"job-{job.id}")

    async def _run(self, job: QueuedJob) -> None:
        exc: BaseException | None = None
        lost: ChildExitedError | None = None
        result: Any = None
        child: ChildHandle | None = None
        try:
            child = self._acquire()
            self.running_on[job.id] = child
            await child.ready
            if job.id in self.cancelled:
                raise ChildExitedError("cancelled before it started")
            job = job.start_time_limit()  # the child sees the deadline it is held to
            reply = child.submit(job)
            limit = job.limit(Limit.Type.TIME)
            await asyncio.wait({reply}, timeout=job.time_remaining)
            if not reply.done():
                await child.kill()
                if not reply.done() or reply.exception() is not None:
                    assert limit is not None
                    raise time_limit_error(limit.value)
            ok, value, meta, _ = reply.result()
            if meta is not None:
                job = dataclasses.replace(job, meta=meta)
            if ok:
                result = value
            else:
                exc = value
        except ChildExitedError as error:
            if job.id in self.cancelled:
                exc = JobCancelledError("Job was cancelled while running; its process was stopped.")
            elif self.stopping:
                lost = error
            else:
                exc = error
        except Exception as error:  # e.g. the child could not be started at all
            exc = error
        finally:
            self.running_on.pop(job.id, None)
            self.tasks.pop(job.id, None)
            self.cancelled.discard(job.id)
            if child is not None:
                self._release(child)
        if lost is not None:
            log.warning(
                "Job %s was interrupted while the worker stopped (%s); it goes back to "
                "queue %r without using an attempt.",
                job.id,
                lost,
                self.queue.name,
            )
            await self.interrupted(job)
        else:
            await self.finished(job, exc=exc, result=result)

    async def cancel(self, ref: Reference) -> bool:
        child = self.running_on.get(ref.identifier)
        if child is None or ref.identifier not in self.jobs:
            return False
        self.cancelled.add(ref.identifier)
        self._in_background(child.kill())
        return True

    async def shutdown(self, interrupted: list[QueuedJob]) -> None:
        """Kill the children running ``interrupted`` jobs, stop the idle ones, and wait
        for every child to be gone (all without blocking the event loop)."""
        self.closing = True
        for job in interrupted:
            child = self.running_on.get(job.id)
            if child is not None:
                self._in_background(child.kill())
        for child in list(self.children):
            if not child.busy:
                self._in_background(child.stop(self.stop_timeout))
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        for child in list(self.children):
            self._in_background(child.stop(self.stop_timeout))
        await asyncio.gather(*self._background, return_exceptions=True)
        self.idle.clear()


def default_start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _preload_in_forkserver(context: BaseContext) -> None:
    """Have the fork server import the child code once, so every fork starts warm.

    Only takes effect if the server has not started yet; modules others asked the
    server to preload are kept.
    """
    from multiprocessing import forkserver

    current = list(getattr(forkserver._forkserver, "_preload_modules", None) or [])
    if "chancy.executors.child" not in current:
        context.set_forkserver_preload([*current, "chancy.executors.child"])  # type: ignore[attr-defined]
