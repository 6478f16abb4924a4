"""A stop signal sent to the whole process group never fails a process-executor job.

systemd and Kubernetes send SIGTERM to every process of the worker's group, and Ctrl-C
sends SIGINT to the terminal's. Children and the fork server must leave that signal to
the worker, which lets the jobs finish; a child lost anyway once the worker is stopping
puts its job back in the queue instead of failing it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from chancy import Chancy, Job
from tests.worker import executor_contract as contract
from tests.worker import executor_jobs as ej
from tests.worker.group_stop import SLOTS, run_once
from tests.worker.test_executors_process import wait_for_file, wait_until_dead
from tests.worker.worker_helpers import running_worker

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("when", ["running", "starting"])
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_group_stop_fails_no_job_and_each_completes_once(
    dsn: str, signum: int, when: str
) -> None:
    """``running``: the jobs run in their children; ``starting``: they are claimed while
    the fork server is still importing. Either way they all complete, exactly once."""
    tally = await run_once(dsn, signum, when)
    assert tally.failed == 0, tally.errors
    assert (tally.lost, tally.duplicated, tally.completed) == (0, 0, SLOTS)


async def test_a_child_lost_while_the_worker_stops_requeues_its_job(
    chancy: Chancy, tmp_path: Path
) -> None:
    """Killed during the drain (as a group SIGKILL or the OOM killer would), the child's
    job goes back to pending with its attempt and error history untouched."""
    started = tmp_path / "started"
    queue = contract.queue(Chancy.Executor.Process, concurrency=1)
    async with running_worker(chancy, queue, shutdown_timeout=60) as (worker, _):
        ref = await chancy.push(
            Job.from_func(
                ej.touch_and_sleep,
                queue="ex",
                kwargs={"path": str(started), "seconds": 60},
                max_attempts=2,
            )
        )
        pid = await wait_for_file(started)
        stopping = asyncio.ensure_future(worker.stop())
        async with asyncio.timeout(5):
            await worker.shutdown_event.wait()
        os.kill(pid, signal.SIGKILL)
        await wait_until_dead(pid)
        async with asyncio.timeout(20):  # not the 60 s shutdown_timeout: nothing is left
            assert await stopping
    job = await chancy.get_job(ref)
    assert job is not None
    assert (job.state, job.attempts, job.errors) == ("pending", 0, [])
