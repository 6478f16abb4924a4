"""The executor contract shared by every way of running jobs.

An executor runs the jobs one queue's producer hands it, never more than its
``concurrency`` at once, and reports each outcome back to its owner (the worker) through
``job_starting`` and ``job_completed`` (``job_interrupted`` when the worker's stopping
cut a job short). Executors know nothing else about the worker, so this layer imports
nothing from it.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import functools
import os
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from chancy.executors.calling import context_parameters, is_async, prepare
from chancy.job import Limit, QueuedJob, Reference
from chancy.queue import Queue

__all__ = ["Executor", "ExecutorOwner", "JobCancelledError", "ResultNotReturned"]


class JobCancelledError(Exception):
    """The job was cancelled while it ran. Outcomes never retry it (matched by class)."""


class ResultNotReturned:
    """Reported as a job's result when its value could not be brought back from where
    the job ran (a child process): the job succeeded, and ``reason`` says why its value
    is missing, so the worker records that instead of silently storing nothing."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason,))

    def __repr__(self) -> str:
        return f"ResultNotReturned({self.reason!r})"


class ExecutorOwner(Protocol):
    """What an executor needs from whoever runs it (the worker, or a test double)."""

    #: Set once the owner has begun to stop: a job lost from then on was interrupted.
    shutdown_event: asyncio.Event

    async def job_starting(self, executor: Executor, job: QueuedJob) -> QueuedJob: ...

    async def job_completed(
        self, executor: Executor, job: QueuedJob, *, exc: BaseException | None, result: Any
    ) -> None: ...

    async def job_interrupted(self, executor: Executor, job: QueuedJob) -> None:
        """Put ``job`` back in its queue: its run was cut short, its attempt not used."""


def cpu_count() -> int:
    counter = getattr(os, "process_cpu_count", None) or os.cpu_count
    return counter() or 1


class Executor(abc.ABC):
    """Base class of executors. Subclass it and name it in ``Queue(executor=...)``;
    ``Queue.executor_options`` become keyword arguments of the constructor.

    Each executor declares what it can do in :attr:`capabilities`, and
    :meth:`prepare_job_for_execution` refuses (with a ``ValueError`` recorded on the job)
    a job that needs something it can't.
    """

    class Capability(enum.IntFlag):
        """What an executor can do with a job."""

        NONE = 0
        #: Runs plain (``def``) functions.
        SYNC_JOBS = enum.auto()
        #: Runs coroutine (``async def``) functions.
        ASYNC_JOBS = enum.auto()
        #: Stops a running job when it is cancelled.
        CANCELLATION = enum.auto()
        #: Stops a running job at its TIME limit without the job's help.
        AUTOMATIC_TIME_LIMITS = enum.auto()
        #: Stops a running job at its TIME limit only when the job calls
        #: :meth:`QueuedJob.checkpoint`, so such jobs must take a ``QueuedJob`` parameter.
        COOPERATIVE_TIME_LIMITS = enum.auto()
        #: Caps a running job's memory (``Limit(MEMORY)``).
        MEMORY_LIMITS = enum.auto()

    #: What this executor can do; see :meth:`get_capabilities`.
    capabilities: ClassVar[Capability] = Capability.NONE

    def __init__(self, worker: ExecutorOwner, queue: Queue) -> None:
        self.worker = worker
        self.queue = queue
        #: Jobs handed to this executor and not yet reported, by id.
        self.jobs: dict[Any, QueuedJob] = {}

    @classmethod
    def get_capabilities(cls) -> Executor.Capability:
        """What this executor can do (an executor may depend on the platform)."""
        return cls.capabilities

    @classmethod
    def supports(cls, capability: Executor.Capability) -> bool:
        """Whether this executor has every capability in ``capability``."""
        return cls.get_capabilities() & capability == capability

    @classmethod
    def stops_at_time_limit(cls, func: Callable[..., Any]) -> bool:
        """Whether this executor interrupts ``func`` at its TIME limit by itself (rather
        than relying on the job's :meth:`QueuedJob.checkpoint` calls)."""
        return cls.supports(cls.Capability.AUTOMATIC_TIME_LIMITS)

    @classmethod
    def prepare_job_for_execution(
        cls, job: QueuedJob
    ) -> tuple[QueuedJob, Callable[..., Any], dict[str, Any]]:
        """The job to run (its TIME-limit clock started), its function and kwargs.

        Raises ``ValueError`` naming what this executor can't do, before the function
        runs: a MEMORY limit without :attr:`Capability.MEMORY_LIMITS`, a TIME limit
        without any time-limit capability, a function kind it doesn't run, or a TIME
        limit it can only enforce cooperatively on a function without a keyword-only
        ``QueuedJob`` parameter (which could never call ``checkpoint()``).
        """
        timed = False
        if job.limits:  # most jobs have none: only the function's kind is left to check
            if job.limit(Limit.Type.MEMORY) is not None and not cls.supports(
                cls.Capability.MEMORY_LIMITS
            ):
                raise ValueError(
                    f"{cls.__name__} does not support memory limits. Run this job on a "
                    "queue using Chancy.Executor.Process, or push it without Limit(MEMORY)."
                )
            timed = job.limit(Limit.Type.TIME) is not None
            if timed and not cls.get_capabilities() & (
                cls.Capability.AUTOMATIC_TIME_LIMITS | cls.Capability.COOPERATIVE_TIME_LIMITS
            ):
                raise ValueError(f"{cls.__name__} does not support time limits.")
            if timed and job.time_remaining is None:
                job = job.start_time_limit()
        func, kwargs = prepare(job)
        problem = cls._refusal(func, timed)
        if problem is not None:
            raise ValueError(problem.replace("{func}", repr(job.func)))
        return job, func, kwargs

    @classmethod
    def _refusal(cls, func: Callable[..., Any], timed: bool) -> str | None:
        """Why this executor can't run ``func`` (``{func}`` marks its name), or None.
        Cached per executor class and function: the answer never changes, and the
        capability checks cost a few microseconds per job."""
        try:
            return _refusal(cls, func, timed)
        except TypeError:  # an unhashable callable
            return _refusal.__wrapped__(cls, func, timed)

    @functools.cached_property
    def concurrency(self) -> int:
        return self.queue.concurrency or self.get_default_concurrency()

    @property
    def free_slots(self) -> int:
        return self.concurrency - len(self)

    def __len__(self) -> int:
        return len(self.jobs)

    async def push(self, job: QueuedJob) -> None:
        """Start running ``job``; returns once it has been handed off."""
        job = await self.worker.job_starting(self, job)
        self.jobs[job.id] = job
        self.start(job)

    async def finished(
        self, job: QueuedJob, *, exc: BaseException | None = None, result: Any = None
    ) -> None:
        """Subclasses call this once per job when it ends, however it ended."""
        if self.jobs.pop(job.id, None) is None:
            return  # already taken back by stop(): its outcome is the worker's to decide
        await self.worker.job_completed(self, job, exc=exc, result=result)

    async def interrupted(self, job: QueuedJob) -> None:
        """Subclasses call this instead of :meth:`finished` when the worker stopping cut
        ``job`` short (not the job itself): the worker puts it back in its queue."""
        if self.jobs.pop(job.id, None) is None:
            return  # already taken back by stop()
        await self.worker.job_interrupted(self, job)

    @property
    def stopping(self) -> bool:
        """Whether the worker has begun to stop (so a lost job was interrupted)."""
        event = getattr(self.worker, "shutdown_event", None)  # test doubles may lack it
        return event is not None and event.is_set()

    def running(self, ref: Reference) -> QueuedJob | None:
        return self.jobs.get(ref.identifier)

    async def stop(self) -> list[QueuedJob]:
        """Interrupt whatever is still running and release resources.

        Returns the interrupted jobs, which were not reported, so the worker can put
        them back in the queue. The worker calls this after draining (or timing out).
        """
        interrupted = list(self.jobs.values())
        self.jobs.clear()
        await self.shutdown(interrupted)
        return interrupted

    @abc.abstractmethod
    def start(self, job: QueuedJob) -> None:
        """Begin running ``job`` without waiting for it."""

    @abc.abstractmethod
    async def cancel(self, ref: Reference) -> bool:
        """Interrupt the running job ``ref`` if it runs here; True if it did."""

    @abc.abstractmethod
    async def shutdown(self, interrupted: list[QueuedJob]) -> None:
        """Stop running ``interrupted`` jobs and release the executor's resources."""

    @classmethod
    @abc.abstractmethod
    def get_default_concurrency(cls) -> int:
        """Slots when the queue does not set ``concurrency``."""

    async def __aenter__(self) -> Executor:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}(queue={self.queue.name!r}, running={len(self)})>"


@functools.lru_cache(maxsize=1024)
def _refusal(cls: type[Executor], func: Callable[..., Any], timed: bool) -> str | None:
    name = cls.__name__
    kind = cls.Capability.ASYNC_JOBS if is_async(func) else cls.Capability.SYNC_JOBS
    if not cls.supports(kind):
        label = "asynchronous" if kind == cls.Capability.ASYNC_JOBS else "synchronous"
        return f"{name} does not support {label} jobs."
    if timed and not cls.stops_at_time_limit(func) and not context_parameters(func):
        return (
            f"Jobs using cooperative time limits must accept a keyword-only QueuedJob "
            f"context and call context.checkpoint(): {name} cannot interrupt "
            "{func} at its time limit. Add a parameter such as "
            "'*, context: QueuedJob' and call context.checkpoint() in its loop, or run "
            "it on Chancy.Executor.Process."
        )
    return None
