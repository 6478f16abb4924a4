"""What a worker claims, and when: order, schedule, attempts, pause, tags, slots, polling."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import pytest
import sqlalchemy as sa

from chancy import Chancy, Job, Queue
from tests.helpers import job_rows
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import (
    ASYNC,
    max_overlap,
    running_worker,
    side_rows,
    side_table,
)


def _labels(prefix: str) -> list[str]:
    return [
        kw["label"] for name, kw in jobs.CALLS if name == "note" and kw["label"].startswith(prefix)
    ]


async def test_highest_priority_first_then_oldest(chancy: Chancy) -> None:
    tag = f"{chancy.prefix}order-"
    plan = [(0, "a"), (5, "b"), (0, "c"), (9, "d"), (5, "e"), (-1, "f"), (9, "g")]
    refs = [
        await chancy.push(
            Job.from_func(jobs.note, queue="ordered", priority=p, kwargs={"label": tag + name})
        )
        for p, name in plan
    ]
    async with running_worker(chancy, Queue("ordered", executor=ASYNC, concurrency=1)):
        done = await chancy.wait_for_jobs(refs, interval=0.05, timeout=10)
    assert {j.state for j in done} == {"succeeded"}
    assert _labels(tag) == [tag + n for n in ("d", "g", "b", "e", "a", "c", "f")]


async def test_future_job_waits_until_it_is_due(chancy: Chancy) -> None:
    due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)
    later = await chancy.push(
        Job.from_func(jobs.note, queue="sched", kwargs={"label": "later"}, scheduled_at=due)
    )
    now = await chancy.push(Job.from_func(jobs.note, queue="sched", kwargs={"label": "now"}))
    queue = Queue("sched", executor=ASYNC, concurrency=5, polling_interval=0.1)
    async with running_worker(chancy, queue):
        assert (await chancy.wait_for_job(now, interval=0.05, timeout=5)).state == "succeeded"
        finished = await chancy.wait_for_job(later, interval=0.05, timeout=5)
    assert finished.state == "succeeded"
    # The claim's own clock says it started no earlier than it was due (a worker that
    # ignored scheduled_at would have taken it with the first job).
    assert finished.started_at >= due


async def test_max_attempts_counts_every_run(chancy: Chancy) -> None:
    ref = await chancy.push(Job.from_func(jobs.boom, queue="retry", max_attempts=3))
    queue = Queue("retry", executor=ASYNC, concurrency=1, polling_interval=0.1)
    async with running_worker(chancy, queue):
        job = await chancy.wait_for_job(ref, interval=0.05, timeout=10)
    assert job.state == "failed"
    assert job.attempts == 3
    assert [e["attempt"] for e in job.errors] == [0, 1, 2]
    assert all("RuntimeError: boom" in e["traceback"] for e in job.errors)
    assert job.completed_at is not None


async def test_a_running_job_sees_the_attempts_completed_before_it(chancy: Chancy) -> None:
    """Upstream's contract: ``job.attempts`` is 0 on the first run, 1 on the second..."""
    ref = await chancy.push(Job.from_func(jobs.note_attempts, queue="seen", max_attempts=3))
    queue = Queue("seen", executor=ASYNC, concurrency=1, polling_interval=0.1)
    async with running_worker(chancy, queue):
        job = await chancy.wait_for_job(ref, interval=0.05, timeout=10)
    assert job.state == "succeeded"
    assert job.meta["seen"] == [0, 1, 2]
    assert job.attempts == 3
    assert [e["attempt"] for e in job.errors] == [0, 1]


async def test_paused_queue_claims_nothing_until_resumed(chancy: Chancy) -> None:
    paused = Queue("paused", executor=ASYNC, state=Queue.State.PAUSED, polling_interval=0.05)
    ref = await chancy.push(Job.from_func(jobs.note, queue="paused", kwargs={"label": "p"}))
    async with running_worker(chancy, paused):
        await asyncio.sleep(0.5)  # bounded wait for a negative: about ten polls
        assert (await chancy.get_job(ref)).state == "pending"
        await chancy.resume_queue("paused")
        assert (await chancy.wait_for_job(ref, interval=0.05, timeout=5)).state == "succeeded"


async def test_paused_queue_resumes_by_itself_at_resume_at(chancy: Chancy) -> None:
    resume_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    # A 30 s poll: the worker must wake for resume_at itself, not at its next poll.
    queue = Queue(
        "napping",
        executor=ASYNC,
        state=Queue.State.PAUSED,
        resume_at=resume_at,
        polling_interval=30,
    )
    ref = await chancy.push(Job.from_func(jobs.note, queue="napping", kwargs={"label": "n"}))
    async with running_worker(chancy, queue):
        job = await chancy.wait_for_job(ref, interval=0.05, timeout=3)
        stored = await chancy.get_queue("napping")
    assert job.state == "succeeded"
    assert job.started_at >= resume_at
    assert stored.state == Queue.State.ACTIVE
    assert stored.resume_at is None


async def test_queue_tags_are_regexes_against_worker_tags(chancy: Chancy) -> None:
    mine = Queue("gpu-work", executor=ASYNC, tags={r"gpu=\d+"}, polling_interval=0.1)
    theirs = Queue("elsewhere", executor=ASYNC, tags={"worker_id=someone-else"})
    by_id = Queue("by-id", executor=ASYNC, tags={"worker_id=w-1$"}, polling_interval=0.1)
    ref_theirs = await chancy.push(
        Job.from_func(jobs.note, queue="elsewhere", kwargs={"label": "x"})
    )
    ref_mine = await chancy.push(Job.from_func(jobs.note, queue="gpu-work", kwargs={"label": "y"}))
    async with running_worker(chancy, mine, by_id, worker_id="w-1", tags={"gpu=2"}) as (
        worker,
        log,
    ):
        await chancy.declare(theirs)
        assert (await chancy.wait_for_job(ref_mine, interval=0.05, timeout=5)).state == "succeeded"
        assert "gpu-work" in worker and "by-id" in worker
        assert "elsewhere" not in worker
        assert log.matching("worker.queue.started", queue="elsewhere") == []
        assert (await chancy.get_job(ref_theirs)).state == "pending"


async def test_invalid_tag_regex_is_logged_and_skipped(
    chancy: Chancy, caplog: pytest.LogCaptureFixture
) -> None:
    # declare() refuses an invalid pattern, so write the row the way another tool could.
    table = chancy.models.Queue.__table__
    async with chancy.engine.begin() as conn:
        await conn.execute(
            sa.insert(table).values(name="broken", tags=["*"], executor=ASYNC, state="active")
        )
    caplog.set_level(logging.ERROR, logger="chancy")
    async with running_worker(chancy, Queue("fine", executor=ASYNC)) as (worker, log):
        assert "broken" not in worker
        # The queue watcher survived: a queue declared now still starts.
        await chancy.declare(Queue("later", executor=ASYNC))
        await log.wait("worker.queue.started", queue="later")
    assert any(
        "invalid tag regex" in r.getMessage() and "'*'" in r.getMessage() for r in caplog.records
    )


async def test_per_queue_concurrency_is_never_exceeded(chancy: Chancy) -> None:
    async with side_table(chancy) as table:
        kwargs = {"dsn": chancy.conninfo, "table": table, "hold": 0.05}
        refs = [
            ref
            async for batch in chancy.push_many(
                [Job.from_func(jobs.record_run, queue="narrow", kwargs=kwargs) for _ in range(24)]
            )
            for ref in batch
        ]
        queue = Queue("narrow", executor=ASYNC, concurrency=3, polling_interval=0.1)
        async with running_worker(chancy, queue) as (worker, _):
            done = await chancy.wait_for_jobs(refs, interval=0.05, timeout=15)
            assert worker.executors["narrow"].concurrency == 3
        rows = await side_rows(chancy, table)
    assert {j.state for j in done} == {"succeeded"} and len(done) == 24
    assert max_overlap([(r[2], r[3]) for r in rows]) == 3


async def test_eager_polling_claims_again_after_each_completion(dsn: str, chancy: Chancy) -> None:
    """With notifications off and a 30 s poll, only eager polling notices the second job."""
    quiet = Chancy(dsn, prefix=chancy.prefix, notifications=False, no_default_plugins=True)
    results: dict[bool, str] = {}
    try:
        for eager in (True, False):
            name = f"eager-{eager}".lower()
            gate = f"{chancy.prefix}{name}"
            queue = Queue(
                name, executor=ASYNC, concurrency=2, polling_interval=30, eager_polling=eager
            )
            first = await chancy.push(
                Job.from_func(jobs.wait_for_gate, queue=name, kwargs={"name": gate})
            )
            async with running_worker(quiet, queue) as (_, log):
                await log.job_started(first)
                second = await quiet.push(
                    Job.from_func(jobs.note, queue=name, kwargs={"label": gate})
                )
                jobs.gate(gate).set()
                await chancy.wait_for_job(first, interval=0.05, timeout=5)
                try:
                    await chancy.wait_for_job(second, interval=0.05, timeout=1.5)
                    results[eager] = "ran"
                except TimeoutError:
                    results[eager] = "waiting"
    finally:
        await quiet.__aexit__(None, None, None)
    assert results == {True: "ran", False: "waiting"}


async def test_polling_fallback_without_notifications(dsn: str, chancy: Chancy) -> None:
    quiet = Chancy(dsn, prefix=chancy.prefix, notifications=False, no_default_plugins=True)
    try:
        queue = Queue("polled", executor=ASYNC, polling_interval=0.5)
        async with running_worker(quiet, queue) as (worker, _):
            assert worker.listener is None
            pushed = time.monotonic()
            ref = await chancy.push(Job.from_func(jobs.note, queue="polled", kwargs={"label": "q"}))
            job = await chancy.wait_for_job(ref, interval=0.02, timeout=5)
            elapsed = time.monotonic() - pushed
    finally:
        await quiet.__aexit__(None, None, None)
    assert job.state == "succeeded"
    assert elapsed < 0.5 + 1.5  # within a poll or so, never waiting on a notification
    assert len(await job_rows(chancy, queue="polled")) == 1
