"""Run jobs in sub-interpreters (experimental): threads that don't share a GIL.

Needs ``concurrent.futures.InterpreterPoolExecutor`` (Python 3.14+), or Python 3.13 with
the ``interpreters-pep-734`` backport. Importing this module always works; constructing
the executor without that support raises :class:`~chancy.errors.ConfigurationError`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import pickle
import sys
from typing import Any

from chancy.errors import ConfigurationError
from chancy.executors.base import Executor, ResultNotReturned
from chancy.executors.thread import ThreadedExecutor, run_job
from chancy.job import QueuedJob

__all__ = ["SubInterpreterExecutor", "interpreter_pool_class", "run_job_returning"]


def interpreter_pool_class() -> type[concurrent.futures.Executor] | None:
    """The available ``InterpreterPoolExecutor``, or None."""
    found = getattr(concurrent.futures, "InterpreterPoolExecutor", None)
    if found is None and sys.version_info >= (3, 13):
        try:
            from interpreters_backports.concurrent.futures import (  # type: ignore[import-not-found]
                InterpreterPoolExecutor as found,
            )
        except ImportError:
            found = None
    return found


def run_job_returning(executor: type[Executor], job: QueuedJob) -> tuple[Any, dict[str, Any]]:
    """:func:`run_job`, with a result that can't be pickled out of the interpreter
    replaced by a :class:`ResultNotReturned`: the job succeeded, so it must not fail
    on the way back."""
    result, meta = run_job(executor, job)
    try:
        pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        result = ResultNotReturned(f"it could not be pickled out of its sub-interpreter ({exc!r})")
    return result, meta


def _initialize(path: list[str]) -> None:
    """Runs in each new interpreter: see the same modules the worker sees."""
    sys.path[:] = path


class SubInterpreterExecutor(ThreadedExecutor):
    """Each job runs in one of ``concurrency`` sub-interpreters (default
    ``min(32, cpus + 4)``), each on its own thread.

    Jobs and their results cross interpreters by pickling, and extension modules that
    don't support sub-interpreters cannot be imported there. TIME limits are cooperative
    (the job must call ``checkpoint()`` on its ``QueuedJob`` parameter) and a cancelled
    job's thread runs on, as with :class:`ThreadedExecutor`; MEMORY limits are refused.
    """

    capabilities = (
        Executor.Capability.SYNC_JOBS
        | Executor.Capability.ASYNC_JOBS
        | Executor.Capability.COOPERATIVE_TIME_LIMITS
    )

    def __init__(self, worker: Any, queue: Any) -> None:
        if interpreter_pool_class() is None:
            raise ConfigurationError(
                "SubInterpreterExecutor needs Python 3.13+ with sub-interpreter support "
                "(concurrent.futures.InterpreterPoolExecutor on 3.14, or the "
                f"'interpreters-pep-734' backport on 3.13); this is Python "
                f"{sys.version.split()[0]}. Use Chancy.Executor.Process or "
                "Chancy.Executor.Threaded for this queue instead."
            )
        super().__init__(worker, queue)

    def submit(self, job: QueuedJob) -> asyncio.Future[tuple[Any, dict[str, Any]]]:
        return asyncio.get_running_loop().run_in_executor(
            self.pool, run_job_returning, type(self), job
        )

    def make_pool(self) -> concurrent.futures.Executor:
        pool_class = interpreter_pool_class()
        assert pool_class is not None  # checked in __init__
        return pool_class(  # type: ignore[call-arg]
            max_workers=self.concurrency, initializer=_initialize, initargs=(list(sys.path),)
        )
