"""A real worker process and SIGTERM: the first signal drains, a second one forces the exit."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from chancy import Chancy, Job, Queue
from tests.helpers import job_rows, states
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import ASYNC, wait_for_state, worker_process

pytestmark = pytest.mark.slow


async def _declare(app: Chancy) -> None:
    await app.declare(Queue("default", executor=ASYNC, concurrency=1))
    await app.declare(Queue("long", executor=ASYNC, polling_interval=0.1))


async def test_sigterm_lets_the_running_job_finish_and_exits_0(chancy: Chancy) -> None:
    await _declare(chancy)
    ref = await chancy.push(Job.from_func(jobs.sleep_for, queue="long", kwargs={"seconds": 1.5}))
    async with worker_process(chancy, worker_id="w-term") as child:
        await child.ready()
        await wait_for_state(chancy, ref, "running", timeout=10)
        child.signal(signal.SIGTERM)
        code, out = await child.finish(timeout=15)
        assert code == 0, child.stderr()
    assert "STOPPED worker.stopped" in out
    job = await chancy.get_job(ref)
    assert job.state == "succeeded"
    assert "running" not in await states(chancy)
    assert await chancy.get_all_workers() == []


async def test_second_signal_forces_a_fast_exit_and_puts_the_job_back(chancy: Chancy) -> None:
    await _declare(chancy)
    ref = await chancy.push(Job.from_func(jobs.sleep_for, queue="long", kwargs={"seconds": 60}))
    async with worker_process(chancy, worker_id="w-force", shutdown_timeout=60) as child:
        await child.ready()
        await wait_for_state(chancy, ref, "running", timeout=10)
        child.signal(signal.SIGTERM)
        with pytest.raises(TimeoutError):  # bounded: it is draining, not exiting
            await asyncio.wait_for(asyncio.shield(child.proc.wait()), 0.5)
        forced = time.monotonic()
        child.signal(signal.SIGTERM)
        code, out = await child.finish(timeout=10)
        took = time.monotonic() - forced
        assert code == 0, child.stderr()
    assert "STOPPED worker.shutdown_timeout" in out
    assert took < 3
    (row,) = await job_rows(chancy, queue="long")
    assert (row["state"], row["attempts"], row["claim_id"]) == ("pending", 0, None)
    assert await chancy.get_all_workers() == []
