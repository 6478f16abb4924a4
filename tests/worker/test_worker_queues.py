"""Queue changes reach a running worker: at once by notification, or by the change poll."""

from __future__ import annotations

import sqlalchemy as sa

from chancy import Chancy, Job, Queue
from tests.helpers import on_call, wait_for
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import ASYNC, running_worker

#: Long enough that only a notification can explain a change seen within the test timeouts.
SLOW_POLL = {"queue_change_poll_interval": 60}


async def test_declare_upsert_pause_resume_delete_reach_the_worker(chancy: Chancy) -> None:
    async with running_worker(chancy, **SLOW_POLL) as (worker, log):
        mark = log.mark()
        await chancy.declare(Queue("live", executor=ASYNC, concurrency=2, polling_interval=30))
        started = await log.wait("worker.queue.started", queue="live", since=mark, timeout=2)
        assert started.body["executor"].concurrency == 2

        mark = log.mark()
        await chancy.declare(
            Queue("live", executor=ASYNC, concurrency=7, polling_interval=30), upsert=True
        )
        updated = await log.wait("worker.queue.updated", queue="live", since=mark, timeout=2)
        assert updated.body["queue"].concurrency == 7
        assert worker["live"].concurrency == 7
        assert worker.executors["live"].concurrency == 7

        mark = log.mark()
        await chancy.pause_queue("live")
        await log.wait("worker.queue.updated", queue="live", since=mark, timeout=2)
        assert worker["live"].state == Queue.State.PAUSED
        ref = await chancy.push(Job.from_func(jobs.note, queue="live", kwargs={"label": "l"}))

        mark = log.mark()
        await chancy.resume_queue("live")
        await log.wait("worker.queue.updated", queue="live", since=mark, timeout=2)
        assert worker["live"].state == Queue.State.ACTIVE
        assert (await chancy.wait_for_job(ref, interval=0.05, timeout=2)).state == "succeeded"

        mark = log.mark()
        await chancy.delete_queue("live")
        await log.wait("worker.queue.removed", queue="live", since=mark, timeout=2)
        assert "live" not in worker
        assert "live" not in worker.executors


async def test_changes_arrive_by_polling_without_notifications(dsn: str, chancy: Chancy) -> None:
    quiet = Chancy(dsn, prefix=chancy.prefix, notifications=False, no_default_plugins=True)
    try:
        async with running_worker(quiet, queue_change_poll_interval=0.3) as (worker, log):
            mark = log.mark()
            await quiet.declare(Queue("polled", executor=ASYNC, concurrency=1))
            await log.wait("worker.queue.started", queue="polled", since=mark, timeout=2)

            mark = log.mark()
            await quiet.declare(Queue("polled", executor=ASYNC, concurrency=3), upsert=True)
            await log.wait("worker.queue.updated", queue="polled", since=mark, timeout=2)
            assert worker.executors["polled"].concurrency == 3

            mark = log.mark()
            await quiet.pause_queue("polled")
            await log.wait("worker.queue.updated", queue="polled", since=mark, timeout=2)
            assert worker["polled"].state == Queue.State.PAUSED

            mark = log.mark()
            await quiet.delete_queue("polled")
            await log.wait("worker.queue.removed", queue="polled", since=mark, timeout=2)
            assert "polled" not in worker
    finally:
        await quiet.__aexit__(None, None, None)


async def test_reconfiguring_a_busy_queue_drains_then_restarts(chancy: Chancy) -> None:
    """Like upstream's test_queue_update: the running job finishes on the old executor."""
    gate = f"{chancy.prefix}busy"
    queue = Queue("busy", executor=ASYNC, concurrency=1, polling_interval=30)
    async with running_worker(chancy, queue, **SLOW_POLL) as (worker, log):
        first = await chancy.push(
            Job.from_func(jobs.wait_for_gate, queue="busy", kwargs={"name": gate})
        )
        await log.job_started(first)
        old = worker.executors["busy"]
        mark = log.mark()
        await chancy.declare(
            Queue("busy", executor=ASYNC, concurrency=4, polling_interval=30), upsert=True
        )
        second = await chancy.push(Job.from_func(jobs.note, queue="busy", kwargs={"label": "b"}))
        assert log.matching("worker.queue.updated", queue="busy", since=mark) == []
        jobs.gate(gate).set()
        await log.wait("worker.queue.updated", queue="busy", since=mark, timeout=2)
        assert worker.executors["busy"] is not old
        assert worker.executors["busy"].concurrency == 4
        done = await chancy.wait_for_jobs([first, second], interval=0.05, timeout=3)
    assert {j.state for j in done} == {"succeeded"} and len(done) == 2


async def test_queue_deleted_and_declared_again_is_served_again(chancy: Chancy) -> None:
    gate = f"{chancy.prefix}again"
    queue = Queue("again", executor=ASYNC, concurrency=1, polling_interval=30)
    async with running_worker(chancy, queue, **SLOW_POLL) as (worker, log):
        first = await chancy.push(
            Job.from_func(jobs.wait_for_gate, queue="again", kwargs={"name": gate})
        )
        await log.job_started(first)
        producer = worker.assignment.producers["again"]
        retired = on_call(producer, "retire")
        taken_back = on_call(producer, "replace_with")
        await chancy.delete_queue("again", purge_jobs=False)
        # Re-declare only once the worker has begun retiring the queue (it is still
        # draining the running job), the case that used to leave it unserved.
        await wait_for(retired, "the deleted queue's producer to retire", timeout=2)
        assert producer.retiring
        await chancy.declare(queue)
        # The worker takes the queue back while the job still runs...
        await wait_for(taken_back, "the producer to take the queue back", timeout=2)
        assert not producer.retiring
        jobs.gate(gate).set()
        second = await chancy.push(Job.from_func(jobs.note, queue="again", kwargs={"label": "a"}))
        # ...and serves it again once drained, without waiting for the 60 s queue poll.
        assert (await chancy.wait_for_job(second, interval=0.05, timeout=3)).state == "succeeded"
        assert "again" in worker


async def test_a_queue_row_with_invalid_settings_is_skipped_not_fatal(chancy: Chancy) -> None:
    """A hand-edited queue row that fails validation must not stop the other queues."""
    good = Queue("good", executor=ASYNC, concurrency=1)
    await chancy.declare(Queue("broken", executor=ASYNC))
    table = chancy.models.Queue.__table__
    async with chancy.engine.begin() as conn:  # a rate limit without its window
        await conn.execute(sa.update(table).where(table.c.name == "broken").values(rate_limit=5))
    async with running_worker(chancy, good) as (worker, log):
        ref = await chancy.push(Job.from_func(jobs.note, queue="good", kwargs={"label": "x"}))
        assert (await chancy.wait_for_job(ref, interval=0.05, timeout=5)).state == "succeeded"
        assert "good" in worker
        assert "broken" not in worker
