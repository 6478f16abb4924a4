"""The threaded executor on a real worker: the executor contract, plus its cooperative
TIME limit and cancellation (reported at once; the thread keeps its slot until it ends)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from chancy import Chancy, Job, Limit
from chancy.executors.base import cpu_count
from chancy.executors.thread import ThreadedExecutor
from tests.helpers import poll_until
from tests.worker import executor_contract as contract
from tests.worker import executor_jobs as ej
from tests.worker.worker_helpers import running_worker

THREADED = Chancy.Executor.Threaded


async def test_runs_sync_and_async_jobs_with_context(chancy: Chancy) -> None:
    await contract.check_sync_and_async_jobs_with_context(chancy, THREADED)


async def test_failures_are_recorded_and_never_break_the_worker(chancy: Chancy) -> None:
    await contract.check_failures(chancy, THREADED)


async def test_concurrency_is_never_exceeded(chancy: Chancy, tmp_path: Path) -> None:
    await contract.check_concurrency_is_never_exceeded(chancy, THREADED, tmp_path)


async def test_jobs_run_in_pool_threads_of_the_worker_process(chancy: Chancy) -> None:
    async with running_worker(chancy, contract.queue(THREADED)):
        done = await contract.finish(chancy, Job.from_func(ej.whereabouts, queue="ex"))
    assert done.state == "succeeded"
    assert done.meta["pid"] == os.getpid()
    assert done.meta["thread"].startswith("chancy-ex")
    assert done.meta["thread"] != threading.main_thread().name


def test_default_concurrency() -> None:
    assert ThreadedExecutor.get_default_concurrency() == min(32, cpu_count() + 4)


async def test_time_limit_reports_at_deadline_but_keeps_the_slot(
    chancy: Chancy, tmp_path: Path
) -> None:
    """The overdue job fails at its deadline; the next job (concurrency 1) only starts
    once the overdue thread has really returned."""
    first_started = tmp_path / "first"
    second_started = tmp_path / "second"
    async with running_worker(chancy, contract.queue(THREADED, concurrency=1)) as (worker, _):
        slow = await chancy.push(
            Job.from_func(
                ej.touch_and_sleep_with_context,
                queue="ex",
                kwargs={"path": str(first_started), "seconds": 1.5},
                limits=[Limit(Limit.Type.TIME, 0.3)],
            )
        )
        following = await chancy.push(
            Job.from_func(ej.touch, queue="ex", kwargs={"path": str(second_started)})
        )
        timed_out = await chancy.wait_for_job(slow, interval=0.05, timeout=10)
        reported = time.time()
        executor = worker.executors["ex"]
        assert timed_out is not None and timed_out.state == "failed"
        assert (
            "TimeoutError: Job timed out. It exceeded its time limit of 0.3 seconds"
            in (timed_out.errors[-1]["traceback"])
        )
        # Reported well before the function returns, and the slot is still taken.
        assert not second_started.exists()
        assert len(executor) == 1 and executor.free_slots == 0
        done = await chancy.wait_for_job(following, interval=0.05, timeout=10)
    assert done is not None and done.state == "succeeded"
    assert second_started.stat().st_mtime >= first_started.stat().st_mtime + 1.4
    assert second_started.stat().st_mtime > reported


async def test_cancel_reports_at_once_and_keeps_the_slot(chancy: Chancy, tmp_path: Path) -> None:
    started = tmp_path / "started"
    async with running_worker(chancy, contract.queue(THREADED, concurrency=1)) as (worker, log):
        ref = await chancy.push(
            Job.from_func(
                ej.touch_and_sleep,
                queue="ex",
                kwargs={"path": str(started), "seconds": 1.0},
                max_attempts=3,
            )
        )
        await poll_until(started.exists, what="the job's thread to start", timeout=10)
        executor = worker.executors["ex"]
        thread = executor.calls[ref.identifier]
        assert await chancy.cancel_job(ref) == 1
        await log.job_completed(ref, "failed")  # the notification reached the executor
        assert ref.identifier not in executor.jobs
        assert len(executor) == 1  # the thread still holds its slot
        assert not await executor.cancel(ref)  # nothing left to cancel
        async with asyncio.timeout(5):
            await asyncio.shield(thread)  # the function returns...
        assert len(executor) == 0  # ...and frees the slot
    job = await chancy.get_job(ref)
    assert job is not None and job.state == "failed" and job.attempts == 0  # as upstream
    assert "cancelled" in job.errors[-1]["traceback"].lower()


async def test_stop_requeues_a_running_job_without_waiting_for_its_thread(
    chancy: Chancy, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    async with running_worker(chancy, contract.queue(THREADED), shutdown_timeout=0.2) as (
        worker,
        _,
    ):
        ref = await chancy.push(
            Job.from_func(
                ej.touch_and_sleep, queue="ex", kwargs={"path": str(started), "seconds": 5.0}
            )
        )
        await poll_until(started.exists, what="the job's thread to start", timeout=10)
        begun = time.monotonic()
        await worker.stop()
        assert time.monotonic() - begun < 3  # did not wait for the 5 s thread
    job = await chancy.get_job(ref)
    assert job is not None and job.state == "pending" and job.attempts == 0
