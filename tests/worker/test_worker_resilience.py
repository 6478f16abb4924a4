"""A worker outlives lost connections and bad jobs: a failure is the job's, never the worker's."""

from __future__ import annotations

import logging
import time

import pytest

from chancy import Chancy, Job, Queue
from chancy.db.statements import queues as queues_sql
from tests.worker import jobs_for_worker_tests as jobs
from tests.worker.worker_helpers import (
    ASYNC,
    JOBS,
    named_dsn,
    running_worker,
    terminate_backends,
)


async def test_worker_survives_losing_every_connection(
    dsn: str, chancy: Chancy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="chancy")
    name = f"{chancy.prefix}all"
    app = Chancy(named_dsn(dsn, name), prefix=chancy.prefix, no_default_plugins=True)
    queue = Queue("sturdy", executor=ASYNC, polling_interval=120)
    try:
        async with running_worker(app, queue) as (worker, _):
            before = await chancy.push(
                Job.from_func(jobs.add, queue="sturdy", kwargs={"a": 1, "b": 2})
            )
            await chancy.wait_for_job(before, interval=0.02, timeout=5)
            # The pool's connections and the LISTEN connection, all at once.
            killed = await terminate_backends(chancy, name)
            assert killed >= 2
            pushed = time.monotonic()
            after = await chancy.push(
                Job.from_func(jobs.add, queue="sturdy", kwargs={"a": 3, "b": 4})
            )
            job = await chancy.wait_for_job(after, interval=0.02, timeout=60)
            elapsed = time.monotonic() - pushed
            more = await chancy.push(
                Job.from_func(jobs.add, queue="sturdy", kwargs={"a": 5, "b": 6})
            )
            assert (await chancy.wait_for_job(more, interval=0.02, timeout=5)).state == "succeeded"
            assert not worker.shutdown_event.is_set()
    finally:
        await app.__aexit__(None, None, None)
    assert job.state == "succeeded"
    # Well within the 120 s poll: the reconnecting listener wakes every producer (a
    # loaded machine, such as a parallel test run, can take several seconds).
    assert elapsed < 30
    assert any("Notification listener failed" in r.getMessage() for r in caplog.records)


#: (function path, kwargs, what the job's error must say)
BAD_JOBS = [
    (f"{JOBS}.does_not_exist", {}, "Could not import job function"),
    ("tests.worker.no_such_module.func", {}, "Could not import job function"),
    (f"{JOBS}.add", {"a": 1}, "cannot be called with kwargs ['a']"),
    (f"{JOBS}.add", {"a": 1, "b": 2, "c": 3}, "cannot be called with kwargs ['a', 'b', 'c']"),
    (f"{JOBS}.CALLS", {}, "is not callable"),
]


async def test_a_job_that_cannot_be_called_fails_alone(
    chancy: Chancy, caplog: pytest.LogCaptureFixture
) -> None:
    """Also: a queue naming an executor that can't be imported is logged, not fatal."""
    caplog.set_level(logging.ERROR, logger="chancy")
    queue = Queue("bad", executor=ASYNC, concurrency=1, polling_interval=0.1)
    # declare() refuses such a queue now; one stored by an older version is still read.
    odd = Queue("odd", executor="tests.worker.nowhere.Executor")
    async with chancy.engine.begin() as conn:
        await conn.execute(queues_sql.build_declare(chancy.models, odd, upsert=False))
    async with running_worker(chancy, queue) as (worker, _):
        bad = [
            await chancy.push(Job(func=func, queue="bad", kwargs=kwargs))
            for func, kwargs, _ in BAD_JOBS
        ]
        good = await chancy.push(Job.from_func(jobs.add, queue="bad", kwargs={"a": 2, "b": 2}))
        failed = [await chancy.wait_for_job(ref, interval=0.02, timeout=5) for ref in bad]
        succeeded = await chancy.wait_for_job(good, interval=0.02, timeout=5)
        assert "bad" in worker and not worker.shutdown_event.is_set()
    for job, (func, _, expected) in zip(failed, BAD_JOBS, strict=True):
        assert job.state == "failed", func
        assert len(job.errors) == 1, func
        assert expected in job.errors[0]["traceback"], (func, job.errors[0]["traceback"])
    assert succeeded.state == "succeeded"
    errors = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert any("'tests.worker.nowhere.Executor', which cannot be imported" in e for e in errors)
