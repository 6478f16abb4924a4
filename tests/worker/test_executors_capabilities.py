"""What each executor can do (``Executor.Capability``), how ``prepare_job_for_execution``
refuses a job that needs more, and cooperative TIME limits (``QueuedJob.time_remaining``
and ``checkpoint()``), first on the values and then on a real worker."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from chancy import Chancy, Job, Limit, QueuedJob, Reference
from chancy.executors import process
from chancy.executors.asyncex import AsyncExecutor
from chancy.executors.base import Executor
from chancy.executors.process import ProcessExecutor
from chancy.executors.sub import SubInterpreterExecutor
from chancy.executors.thread import ThreadedExecutor
from tests.worker import executor_contract as contract
from tests.worker import executor_jobs as ej
from tests.worker.worker_helpers import running_worker

Cap = Executor.Capability
TIME_1S = [Limit(Limit.Type.TIME, 1)]


def queued(func: Any, *, limits: list[Limit] | None = None, **kwargs: Any) -> QueuedJob:
    """A claimed job calling ``func`` with ``kwargs``, as an executor receives it."""
    return QueuedJob(
        func=Job.from_func(func).func,
        id=uuid.uuid4(),
        created_at=dt.datetime.now(dt.UTC),
        limits=limits or [],
        kwargs=kwargs,
    )


class OnlyAsync(Executor):
    """A custom executor declaring less than the built-in ones."""

    capabilities = Cap.ASYNC_JOBS

    def start(self, job: QueuedJob) -> None: ...

    async def cancel(self, ref: Reference) -> bool:
        return False

    async def shutdown(self, interrupted: list[QueuedJob]) -> None: ...

    @classmethod
    def get_default_concurrency(cls) -> int:
        return 1


# -- capabilities --------------------------------------------------------------------------
def test_each_built_in_executor_declares_what_it_can_do() -> None:
    assert ProcessExecutor.get_capabilities() == (
        Cap.SYNC_JOBS
        | Cap.ASYNC_JOBS
        | Cap.CANCELLATION
        | Cap.AUTOMATIC_TIME_LIMITS
        | Cap.MEMORY_LIMITS
    )
    # Upstream's async executor refuses sync functions; ours runs them in a thread.
    assert AsyncExecutor.get_capabilities() == (
        Cap.SYNC_JOBS | Cap.ASYNC_JOBS | Cap.CANCELLATION | Cap.AUTOMATIC_TIME_LIMITS
    )
    cooperative = Cap.SYNC_JOBS | Cap.ASYNC_JOBS | Cap.COOPERATIVE_TIME_LIMITS
    assert ThreadedExecutor.get_capabilities() == cooperative
    assert SubInterpreterExecutor.get_capabilities() == cooperative
    assert Executor.get_capabilities() == Cap.NONE
    assert isinstance(Cap.SYNC_JOBS | Cap.MEMORY_LIMITS, int)  # an IntFlag, as upstream


def test_supports_needs_every_capability_asked_for() -> None:
    assert ThreadedExecutor.supports(Cap.SYNC_JOBS)
    assert ThreadedExecutor.supports(Cap.SYNC_JOBS | Cap.COOPERATIVE_TIME_LIMITS)
    assert not ThreadedExecutor.supports(Cap.SYNC_JOBS | Cap.CANCELLATION)
    assert not ThreadedExecutor.supports(Cap.AUTOMATIC_TIME_LIMITS)
    assert ProcessExecutor.supports(Cap.CANCELLATION | Cap.AUTOMATIC_TIME_LIMITS)
    assert AsyncExecutor.supports(Cap.NONE)


def test_process_memory_limits_need_rlimit_as(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(process, "resource", None)  # as on Windows
    assert not ProcessExecutor.supports(Cap.MEMORY_LIMITS)
    assert ProcessExecutor.supports(Cap.AUTOMATIC_TIME_LIMITS | Cap.CANCELLATION)
    job = queued(ej.noop, limits=[Limit(Limit.Type.MEMORY, 2**30)])
    with pytest.raises(ValueError, match="ProcessExecutor does not support memory limits"):
        ProcessExecutor.prepare_job_for_execution(job)


# -- prepare_job_for_execution ------------------------------------------------------------
@pytest.mark.parametrize("executor", [ThreadedExecutor, AsyncExecutor, SubInterpreterExecutor])
def test_memory_limits_are_refused_where_unsupported(executor: type[Executor]) -> None:
    job = queued(ej.noop, limits=[Limit(Limit.Type.MEMORY, 2**30)])
    with pytest.raises(ValueError, match=f"{executor.__name__} does not support memory limits"):
        executor.prepare_job_for_execution(job)


def test_function_kinds_and_time_limits_an_executor_lacks_are_refused() -> None:
    with pytest.raises(ValueError, match="OnlyAsync does not support synchronous jobs"):
        OnlyAsync.prepare_job_for_execution(queued(ej.noop))
    with pytest.raises(ValueError, match="OnlyAsync does not support time limits"):
        OnlyAsync.prepare_job_for_execution(queued(ej.async_noop, limits=TIME_1S))
    job, func, kwargs = OnlyAsync.prepare_job_for_execution(queued(ej.async_noop))
    assert func is ej.async_noop and kwargs == {}


@pytest.mark.parametrize("executor", [ThreadedExecutor, SubInterpreterExecutor])
def test_cooperative_limits_refuse_a_function_without_a_context(
    executor: type[Executor],
) -> None:
    job = queued(ej.touch_and_sleep, limits=TIME_1S, path="p", seconds=0)
    with pytest.raises(ValueError) as caught:
        executor.prepare_job_for_execution(job)
    message = str(caught.value)
    assert message.startswith("Jobs using cooperative time limits must accept a keyword-only")
    assert "'tests.worker.executor_jobs.touch_and_sleep'" in message
    assert "context.checkpoint()" in message and "Chancy.Executor.Process" in message


def test_the_async_executor_needs_a_context_only_for_sync_functions() -> None:
    """Async functions are cancelled at the deadline; sync ones run in a thread."""
    AsyncExecutor.prepare_job_for_execution(queued(ej.async_noop, limits=TIME_1S))
    with pytest.raises(ValueError, match="Jobs using cooperative time limits must accept"):
        AsyncExecutor.prepare_job_for_execution(
            queued(ej.touch_and_sleep, limits=TIME_1S, path="p", seconds=0)
        )
    AsyncExecutor.prepare_job_for_execution(
        queued(ej.until_checkpoint_stops, limits=TIME_1S, path="p")
    )


def test_automatic_limits_need_no_context() -> None:
    job, func, _ = ProcessExecutor.prepare_job_for_execution(
        queued(ej.touch_and_sleep, limits=TIME_1S, path="p", seconds=0)
    )
    assert func is ej.touch_and_sleep


def test_a_prepared_job_is_the_context_and_carries_its_deadline() -> None:
    job = queued(ej.until_checkpoint_stops, limits=[Limit(Limit.Type.TIME, 30)], path="p")
    assert job.time_remaining is None  # not started
    prepared, func, kwargs = ThreadedExecutor.prepare_job_for_execution(job)
    assert kwargs == {"path": "p", "job": prepared}
    remaining = prepared.time_remaining
    assert remaining is not None and 29 < remaining <= 30
    # A clock already started (by the executor, when the run began) is kept.
    again, _, _ = ThreadedExecutor.prepare_job_for_execution(prepared)
    assert again._time_limit_deadline == prepared._time_limit_deadline


# -- the QueuedJob side -------------------------------------------------------------------
def test_time_remaining_and_checkpoint_without_a_time_limit() -> None:
    job = queued(ej.noop).start_time_limit()
    assert job.time_remaining is None
    job.checkpoint()  # never raises


def test_checkpoint_raises_once_the_deadline_has_passed() -> None:
    job = queued(ej.until_checkpoint_stops, limits=[Limit(Limit.Type.TIME, 5)], path="p")
    running = job.start_time_limit()
    running.checkpoint()
    late = dataclasses.replace(running, _time_limit_deadline=time.monotonic() - 0.1)
    assert late.time_remaining == 0.0
    with pytest.raises(TimeoutError, match=r"^Job timed out\. It passed its time limit of 5 s"):
        late.checkpoint()
    assert late == running  # the deadline is not part of the job's identity


def test_the_deadline_survives_pickling_to_a_child_process() -> None:
    running = queued(ej.noop, limits=[Limit(Limit.Type.TIME, 60)]).start_time_limit()
    copy = pickle.loads(pickle.dumps(running))
    assert copy._time_limit_deadline == running._time_limit_deadline
    assert copy.time_remaining is not None and copy.time_remaining > 50


# -- on a real worker ----------------------------------------------------------------------
async def run_limited(app: Chancy, executor: str, func: Any, path: Path) -> QueuedJob:
    async with running_worker(app, contract.queue(executor, concurrency=1)):
        return await contract.finish(
            app,
            Job.from_func(func, queue="ex", kwargs={"path": str(path)}, limits=TIME_1S),
        )


@pytest.mark.parametrize(
    ("executor", "func"),
    [
        (Chancy.Executor.Threaded, ej.until_checkpoint_stops),
        (Chancy.Executor.Threaded, ej.async_until_checkpoint_stops),
        (Chancy.Executor.Async, ej.until_checkpoint_stops),
        (Chancy.Executor.Async, ej.async_until_checkpoint_stops),
        (Chancy.Executor.Process, ej.until_checkpoint_stops),
    ],
    ids=["threaded-sync", "threaded-async", "async-sync", "async-async", "process-sync"],
)
async def test_a_checkpointing_job_sees_its_time_and_times_out(
    chancy: Chancy, tmp_path: Path, executor: str, func: Any
) -> None:
    seen = tmp_path / "remaining"
    done = await run_limited(chancy, executor, func, seen)
    assert done.state == "failed"
    assert "TimeoutError: Job timed out." in done.errors[-1]["traceback"]
    assert 0 < float(seen.read_text()) <= 1  # time_remaining, read as the job started


async def test_a_refused_job_fails_with_the_reason_and_the_worker_carries_on(
    chancy: Chancy, tmp_path: Path
) -> None:
    never = tmp_path / "never"
    after = tmp_path / "after"
    async with running_worker(chancy, contract.queue(Chancy.Executor.Threaded, concurrency=1)):
        uncooperative = await contract.finish(
            chancy,
            Job.from_func(
                ej.touch_and_sleep,
                queue="ex",
                kwargs={"path": str(never), "seconds": 0},
                limits=TIME_1S,
                max_attempts=2,
            ),
        )
        memory = await contract.finish(
            chancy,
            Job.from_func(ej.noop, queue="ex", limits=[Limit(Limit.Type.MEMORY, 2**30)]),
        )
        following = await contract.finish(
            chancy, Job.from_func(ej.touch, queue="ex", kwargs={"path": str(after)})
        )
    assert uncooperative.state == "failed" and not never.exists()
    text = uncooperative.errors[-1]["traceback"]
    assert "ValueError: Jobs using cooperative time limits must accept" in text
    assert memory.state == "failed"
    assert (
        "ValueError: ThreadedExecutor does not support memory limits"
        in (memory.errors[-1]["traceback"])
    )
    assert following.state == "succeeded" and after.exists()
