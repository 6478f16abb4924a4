"""Starting and stopping a worker: schema check, default queue, registry, graceful stop."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from chancy import Chancy, Job, Queue
from chancy.errors import MigrationsNeededError
from chancy.testing import isolated_chancy
from chancy.worker import Worker
from tests.helpers import job_rows, states
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import ASYNC, EventLog, running_worker


@pytest.mark.parametrize("version", [0, 1], ids=["no-tables", "out-of-date"])
async def test_refuses_to_start_on_an_old_schema(dsn: str, version: int) -> None:
    async with isolated_chancy(dsn, migrate=False, no_default_plugins=True) as app:
        if version:
            await app.migrate(to_version=version)
        worker = Worker(app, register_signal_handlers=False)
        with pytest.raises(MigrationsNeededError, match=r"chancy\.migrate\(\)|misc migrate"):
            await worker.start()
        assert worker.executors == {}


async def test_first_worker_declares_the_default_queue(chancy: Chancy) -> None:
    assert await chancy.get_all_queues() == []
    worker = Worker(chancy, register_signal_handlers=False, shutdown_timeout=1)
    await worker.start()
    try:
        default = await chancy.get_queue("default")
    finally:
        await worker.stop()
    assert default.name == "default" and default.state == Queue.State.ACTIVE


async def test_an_existing_default_queue_is_left_alone(chancy: Chancy) -> None:
    await chancy.declare(Queue("default", executor=ASYNC, concurrency=3))
    async with running_worker(chancy):
        stored = await chancy.get_queue("default")
    assert (stored.executor, stored.concurrency) == (ASYNC, 3)


async def test_registry_shows_the_running_worker_and_forgets_a_stopped_one(
    chancy: Chancy,
) -> None:
    queue = Queue("listed", executor=ASYNC)
    # A 60 s heartbeat: the queues must be announced as soon as they are served.
    async with running_worker(
        chancy, queue, worker_id="w-registry", tags={"zone=eu"}, heartbeat_poll_interval=60
    ) as (worker, log):

        async def listed() -> dict[str, Any] | None:
            (row,) = await chancy.get_all_workers()
            return row if "listed" in row["queues"] else None

        row = await log.recheck_on(
            "worker.announced", listed, what="the registry to list the queue", timeout=3
        )
        assert row["worker_id"] == "w-registry"
        assert {"*", "zone=eu", "worker_id=w-registry"} <= set(row["tags"])
        assert sorted(row["queues"]) == ["default", "listed"]
        assert row["expires_at"] > row["last_seen"]
    assert await chancy.get_all_workers() == []


async def test_stop_lets_a_running_job_finish(chancy: Chancy) -> None:
    queue = Queue("finish", executor=ASYNC, polling_interval=0.1)
    async with running_worker(chancy, queue, shutdown_timeout=10) as (worker, log):
        ref = await chancy.push(
            Job.from_func(jobs.sleep_for, queue="finish", kwargs={"seconds": 0.5})
        )
        await log.job_started(ref)
        began = time.monotonic()
        assert await worker.stop() is True
        took = time.monotonic() - began
        await log.wait("worker.stopped", timeout=0)
    job = await chancy.get_job(ref)
    assert job.state == "succeeded"
    assert took < 3
    assert len(worker.completer) == 0


async def test_stop_interrupts_a_long_job_and_puts_it_back(chancy: Chancy) -> None:
    queue = Queue("interrupt", executor=ASYNC, polling_interval=0.1)
    async with running_worker(chancy, queue, shutdown_timeout=0.3) as (worker, log):
        ref = await chancy.push(
            Job.from_func(jobs.sleep_for, queue="interrupt", max_attempts=2, kwargs={"seconds": 30})
        )
        await log.job_started(ref)
        began = time.monotonic()
        assert await worker.stop() is False
        took = time.monotonic() - began
        await log.wait("worker.shutdown_timeout", timeout=0)
    (row,) = await job_rows(chancy, queue="interrupt")
    assert took < 2
    assert row["state"] == "pending"
    assert row["attempts"] == 0  # the interrupted attempt is given back
    assert row["errors"] == [] and row["started_at"] is None and row["claim_id"] is None
    assert "running" not in await states(chancy)
    assert len(worker.completer) == 0
    assert worker.executors == {}


async def test_stop_is_idempotent_and_wait_for_shutdown_returns(chancy: Chancy) -> None:
    worker = Worker(chancy, register_signal_handlers=False, shutdown_timeout=1)
    log = EventLog(worker.hub)
    await chancy.declare(Queue("default", executor=ASYNC))
    await worker.start()
    waiter = asyncio.create_task(worker.wait_for_shutdown())
    first, second = await asyncio.gather(worker.stop(), worker.stop())
    await asyncio.wait_for(waiter, 2)
    assert first is second is True
    assert len(log.matching("worker.stopped")) == 1


async def test_a_failed_start_leaves_nothing_running(
    chancy: Chancy, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(*args: object, **kwargs: object) -> None:
        raise ConnectionError("database went away")

    # Fails after the completer and listener have started, before the queues have.
    monkeypatch.setattr(chancy, "declare", unreachable)
    worker = Worker(chancy, register_signal_handlers=False)
    with pytest.raises(ConnectionError):
        await worker.start()
    leftover = [t for t in asyncio.all_tasks() if t.get_name().startswith("chancy:")]
    assert leftover == []
    assert worker.listener is not None and worker.listener.connection is None
