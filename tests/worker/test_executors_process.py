"""The process executor on a real worker: the executor contract, plus what only separate
processes can do (kill a job at its TIME limit or on cancel, cap its memory) and survive
(children that crash, exceptions and results that don't pickle)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from chancy import Chancy, Job, Limit
from chancy.executors.base import cpu_count
from chancy.executors.process import ProcessExecutor, default_start_method
from tests.helpers import poll_until
from tests.worker import executor_contract as contract
from tests.worker import executor_jobs as ej
from tests.worker.worker_helpers import PYTHON, ROOT, running_worker, subprocess_env

PROCESS = Chancy.Executor.Process


async def wait_for_file(path: Path, timeout: float = contract.WAIT) -> int:
    """The pid a ``touch``-style job wrote into ``path`` once it started (polled: the
    child process's file is all this process can see of it)."""
    await poll_until(
        lambda: path.exists() and path.read_text(), what=f"{path} to be written", timeout=timeout
    )
    return int(path.read_text())


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_until_dead(pid: int, timeout: float = 5) -> None:
    """Polled: no event tells a process that another's child has exited."""
    await poll_until(lambda: not alive(pid), what=f"process {pid} to exit", timeout=timeout)


async def test_runs_sync_and_async_jobs_with_context(chancy: Chancy) -> None:
    await contract.check_sync_and_async_jobs_with_context(chancy, PROCESS)


async def test_failures_are_recorded_and_never_break_the_worker(chancy: Chancy) -> None:
    await contract.check_failures(chancy, PROCESS)


async def test_concurrency_is_never_exceeded(chancy: Chancy, tmp_path: Path) -> None:
    await contract.check_concurrency_is_never_exceeded(chancy, PROCESS, tmp_path)


async def test_time_limit_kills_the_job_and_a_replacement_runs_the_next(
    chancy: Chancy, tmp_path: Path
) -> None:
    started = tmp_path / "slow"
    async with running_worker(chancy, contract.queue(PROCESS, concurrency=1)):
        slow = await chancy.push(
            Job.from_func(
                ej.touch_and_sleep,
                queue="ex",
                kwargs={"path": str(started), "seconds": 30},
                limits=[Limit(Limit.Type.TIME, 1)],
            )
        )
        following = await chancy.push(Job.from_func(ej.whereabouts, queue="ex"))
        slow_pid = await wait_for_file(started)
        timed_out = await chancy.wait_for_job(slow, interval=0.05, timeout=10)
        assert not alive(slow_pid)
        done = await chancy.wait_for_job(following, interval=0.05, timeout=contract.WAIT)
    assert timed_out is not None and timed_out.state == "failed"
    assert (
        "TimeoutError: Job timed out. It exceeded its time limit of 1 seconds and was interrupted."
        in timed_out.errors[-1]["traceback"]
    )
    assert timed_out.completed_at is not None and timed_out.started_at is not None
    assert (timed_out.completed_at - timed_out.started_at).total_seconds() < 10
    assert done is not None and done.state == "succeeded"
    assert done.meta["pid"] not in (slow_pid, os.getpid())


async def test_cancelling_a_running_job_kills_it_and_it_is_not_retried(
    chancy: Chancy, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    queue = contract.queue(PROCESS, concurrency=1)
    async with running_worker(chancy, queue) as (worker, log):
        ref = await chancy.push(
            Job.from_func(
                ej.touch_and_sleep,
                queue="ex",
                kwargs={"path": str(started), "seconds": 30},
                max_attempts=3,
            )
        )
        pid = await wait_for_file(started)
        assert await chancy.cancel_job(ref) == 1
        await wait_until_dead(pid)
        executor = worker.executors["ex"]
        await log.job_completed(ref, "failed")
        assert len(executor) == 0
        after = await contract.finish(chancy, Job.from_func(ej.whereabouts, queue="ex"))
        job = await chancy.get_job(ref)
    assert after.state == "succeeded" and after.meta["pid"] != pid
    assert job is not None and job.state == "failed" and job.attempts == 0  # as upstream
    assert len(job.errors) == 1 and "cancelled" in job.errors[0]["traceback"].lower()


async def test_cancel_reports_the_job_cancelled(chancy: Chancy, tmp_path: Path) -> None:
    """What the executor itself reports (the database row is fenced by cancel_job)."""
    started = tmp_path / "started"
    reported: list[BaseException | None] = []
    async with running_worker(chancy, contract.queue(PROCESS, concurrency=1)) as (worker, log):
        original = worker.job_completed

        async def spy(executor, job, *, exc, result):  # type: ignore[no-untyped-def]
            reported.append(exc)
            await original(executor, job, exc=exc, result=result)

        worker.job_completed = spy  # type: ignore[method-assign]
        ref = await chancy.push(
            Job.from_func(
                ej.touch_and_sleep, queue="ex", kwargs={"path": str(started), "seconds": 30}
            )
        )
        await wait_for_file(started)
        executor = worker.executors["ex"]
        assert await executor.cancel(ref)
        await log.job_completed(ref)
        assert len(reported) == 1
        assert not await executor.cancel(ref)
    assert type(reported[0]).__name__ == "JobCancelledError"
    job = await chancy.get_job(ref)
    assert job is not None and job.state == "failed"
    assert "JobCancelledError" in job.errors[-1]["traceback"]


async def test_memory_limit_makes_a_big_allocation_fail(chancy: Chancy) -> None:
    async with running_worker(chancy, contract.queue(PROCESS, concurrency=1)):
        greedy = await contract.finish(
            chancy,
            Job.from_func(
                ej.allocate,
                queue="ex",
                kwargs={"megabytes": 1024},
                limits=[Limit(Limit.Type.MEMORY, 512 * 1024 * 1024)],
            ),
        )
        modest = await contract.finish(
            chancy,
            Job.from_func(
                ej.allocate,
                queue="ex",
                kwargs={"megabytes": 16},
                limits=[Limit(Limit.Type.MEMORY, 2 * 1024**3)],
            ),
        )
        unlimited = await contract.finish(
            chancy, Job.from_func(ej.allocate, queue="ex", kwargs={"megabytes": 1024})
        )
    assert greedy.state == "failed"
    assert "MemoryError" in greedy.errors[-1]["traceback"]
    assert "in allocate" in greedy.errors[-1]["traceback"]
    assert modest.state == "succeeded", modest.errors
    assert unlimited.state == "succeeded", unlimited.errors  # the limit was lifted again


async def test_a_crashing_child_fails_its_job_and_is_replaced(chancy: Chancy) -> None:
    async with running_worker(chancy, contract.queue(PROCESS, concurrency=1)):
        crashed = await contract.finish(
            chancy, Job.from_func(ej.hard_exit, queue="ex", kwargs={"code": 7})
        )
        after = await contract.finish(chancy, Job.from_func(ej.whereabouts, queue="ex"))
    assert crashed.state == "failed"
    text = crashed.errors[-1]["traceback"]
    assert "exited unexpectedly with exit code 7" in text
    assert "The job did not finish" in text
    assert after.state == "succeeded"


async def test_unpicklable_exceptions_and_results(chancy: Chancy) -> None:
    async with running_worker(chancy, contract.queue(PROCESS, concurrency=1)):
        error = await contract.finish(
            chancy, Job.from_func(ej.raise_unpicklable, queue="ex", kwargs={"message": "locked"})
        )
        result = await contract.finish(chancy, Job.from_func(ej.return_unpicklable, queue="ex"))
    assert error.state == "failed"
    text = error.errors[-1]["traceback"]
    assert "UnpicklableError: locked" in text
    assert "in raise_unpicklable" in text  # the child's traceback survived
    assert result.state == "succeeded", result.errors


async def test_children_are_recycled_after_maximum_jobs(chancy: Chancy) -> None:
    queue = contract.queue(PROCESS, concurrency=1, maximum_jobs_per_worker=2)
    async with running_worker(chancy, queue):
        pids = [
            (await contract.finish(chancy, Job.from_func(ej.whereabouts, queue="ex"))).meta["pid"]
            for _ in range(4)
        ]
    assert pids[0] == pids[1] != pids[2] == pids[3]


async def test_stop_kills_running_jobs_and_requeues_them(chancy: Chancy, tmp_path: Path) -> None:
    started = tmp_path / "started"
    queue = contract.queue(PROCESS, concurrency=2)
    async with running_worker(chancy, queue, shutdown_timeout=0.2) as (worker, _):
        ref = await chancy.push(
            Job.from_func(
                ej.touch_and_sleep, queue="ex", kwargs={"path": str(started), "seconds": 30}
            )
        )
        pid = await wait_for_file(started)
        executor = worker.executors["ex"]
        children = {child.pid for child in executor.children}
        begun = time.monotonic()
        await worker.stop()
        assert time.monotonic() - begun < 5
    assert pid in children
    for child in children:
        assert not alive(child)
    assert not executor.children and not executor.idle and not executor.tasks
    job = await chancy.get_job(ref)
    assert job is not None and job.state == "pending" and job.attempts == 0


def test_defaults() -> None:
    assert ProcessExecutor.get_default_concurrency() == cpu_count()
    if sys.platform == "linux":
        assert default_start_method() == "forkserver"


async def test_spawned_children_run_jobs(chancy: Chancy) -> None:
    queue = contract.queue(PROCESS, concurrency=1, mp_context="spawn")
    async with running_worker(chancy, queue) as (worker, _):
        assert worker.executors["ex"].context.get_start_method() == "spawn"
        first = await contract.finish(chancy, Job.from_func(ej.whereabouts, queue="ex"))
        after = await contract.finish(
            chancy, Job.from_func(ej.async_meta, queue="ex", kwargs={"value": "v"})
        )
    assert first.state == "succeeded" and first.meta["pid"] != os.getpid()
    assert after.state == "succeeded" and after.meta["async"] is True


@pytest.mark.parametrize("method", ["spawn", "forkserver"])
async def test_a_function_defined_in_the_worker_script_runs(
    dsn: str, tmp_path: Path, method: str
) -> None:
    """Children import the worker's script as ``__mp_main__``, so ``__main__.fn``
    resolves there as it does in the worker."""
    script = tmp_path / "quick.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import asyncio, os
            from chancy import Chancy, Job, Queue, QueuedJob
            from chancy.testing import isolated_chancy
            from chancy.worker import Worker

            def greet(name: str, *, job: QueuedJob) -> None:
                job.meta["greeting"] = f"hello {{name}} from {{os.getpid()}}"

            async def main() -> None:
                async with isolated_chancy({dsn!r}, no_default_plugins=True) as app:
                    await app.declare(
                        Queue(
                            "default",
                            executor=Chancy.Executor.Process,
                            executor_options={{"mp_context": {method!r}}},
                        )
                    )
                    ref = await app.push(Job.from_func(greet, kwargs={{"name": "world"}}))
                    async with Worker(app, register_signal_handlers=False, shutdown_timeout=2):
                        job = await app.wait_for_job(ref, interval=0.05, timeout=30)
                    print(job.func, job.state, job.meta.get("greeting"), os.getpid())
                    print(job.errors)

            if __name__ == "__main__":
                asyncio.run(main())
            """
        )
    )
    out = subprocess.run(
        [PYTHON, str(script)],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    first = out.stdout.splitlines()[0].split()
    assert first[:4] == ["__main__.greet", "succeeded", "hello", "world"], out.stdout
    assert first[-1] != first[-2]  # ran in a child, not the worker
