"""Notifications drive the worker: pushes wake producers, cancels interrupt running jobs, and
the listener comes back after its connection is killed."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from chancy import Chancy, Job, Queue
from tests.helpers import on_call, wait_for
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import (
    ASYNC,
    named_dsn,
    running_worker,
    terminate_backends,
)

#: With a 30 s poll, a job that runs within a second or two was woken by its notification.
SLOW = {"polling_interval": 30}


async def test_push_wakes_the_producer(chancy: Chancy) -> None:
    async with running_worker(chancy, Queue("woken", executor=ASYNC, **SLOW)):
        # Once a first job has run, the producer's start-up claim is behind us: the next
        # job can only be noticed through its queue.pushed notification (or in 30 s).
        first = await chancy.push(Job.from_func(jobs.note, queue="woken", kwargs={"label": "1"}))
        await chancy.wait_for_job(first, interval=0.02, timeout=5)
        pushed = time.monotonic()
        ref = await chancy.push(Job.from_func(jobs.note, queue="woken", kwargs={"label": "2"}))
        job = await chancy.wait_for_job(ref, interval=0.02, timeout=5)
        elapsed = time.monotonic() - pushed
    assert job.state == "succeeded"
    assert elapsed < 2


async def test_cancel_interrupts_a_running_async_job(
    chancy: Chancy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="chancy")
    queue = Queue("cancelme", executor=ASYNC, polling_interval=0.1)
    async with running_worker(chancy, queue) as (worker, log):
        ref = await chancy.push(
            Job.from_func(jobs.sleep_for, queue="cancelme", max_attempts=3, kwargs={"seconds": 30})
        )
        await log.job_started(ref)
        executor = worker.executors["cancelme"]
        assert executor.running(ref) is not None
        mark = log.mark()
        assert await chancy.cancel_job(ref) == 1
        await log.wait("job.cancelled", since=mark, timeout=2)
        await log.job_completed(ref, "failed", timeout=2)
        assert len(executor) == 0
        await asyncio.sleep(0.3)  # bounded: a retry would be claimed within three polls
        job = await chancy.get_job(ref)
    assert job.state == "failed"
    assert job.attempts == 0  # cancelled mid-run: the run never ended (as upstream)
    assert [e["attempt"] for e in job.errors] == [0]
    assert job.errors[0]["traceback"].startswith("Cancelled")
    assert any("Cancelled running job" in r.getMessage() for r in caplog.records)


async def test_listener_reconnects_after_its_connection_is_killed(
    dsn: str, chancy: Chancy, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"{chancy.prefix}listen"
    app = Chancy(named_dsn(dsn, name), prefix=chancy.prefix, no_default_plugins=True)
    try:
        async with running_worker(app, Queue("relisten", executor=ASYNC, **SLOW)) as (
            worker,
            _,
        ):
            listener = worker.listener
            assert listener is not None and listener.listening.is_set()
            before = listener.connection
            reconnected = on_call(listener, "on_reconnect")
            assert await terminate_backends(chancy, name, listen_only=True) == 1
            await wait_for(reconnected, "the listener to reconnect")
            assert listener.listening.is_set() and listener.connection not in (None, before)
            pushed = time.monotonic()
            ref = await chancy.push(
                Job.from_func(jobs.note, queue="relisten", kwargs={"label": "r"})
            )
            job = await chancy.wait_for_job(ref, interval=0.02, timeout=5)
            elapsed = time.monotonic() - pushed
    finally:
        await app.__aexit__(None, None, None)
    assert job.state == "succeeded"
    assert elapsed < 2
    assert any("Notification listener failed" in r.getMessage() for r in caplog.records)
