"""Job results on a real worker: stored on success, returned by every read, capped in
size, never dropped silently, opted out of, cleared by a retry, pruned with their job."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
import sqlalchemy as sa

from chancy import Chancy, Job, Queue, QueuedJob
from chancy.executors import sub
from chancy.plugins.pruner import Pruner
from tests.prefix_pool import pooled_chancy
from tests.results import result_jobs as rj
from tests.worker.worker_helpers import running_worker

VALUE = {"n": [1, 2.5, None, True], "text": "héllo ✓", "nested": {"a": []}}
#: Generous: a cold process-executor child needs a couple of seconds on a busy machine.
WAIT = 30
EXECUTORS = [
    Chancy.Executor.Async,
    Chancy.Executor.Threaded,
    Chancy.Executor.Process,
    pytest.param(
        Chancy.Executor.SubInterpreter,
        marks=pytest.mark.skipif(
            sub.interpreter_pool_class() is None, reason="needs InterpreterPoolExecutor"
        ),
    ),
]


def pushed(func: object, queue: str = "r", **kwargs: object) -> Job:
    return Job.from_func(func, queue=queue, kwargs=kwargs)  # type: ignore[arg-type]


async def run_all(app: Chancy, queue: Queue, jobs: list[Job]) -> list[QueuedJob]:
    """Run ``jobs`` on a worker serving ``queue``; their final states, in push order."""
    async with running_worker(app, queue):
        refs = [await app.push(job) for job in jobs]
        done = await app.wait_for_jobs(refs, interval=0.05, timeout=WAIT)
    by_id = {job.id: job for job in done}
    return [by_id[ref.identifier] for ref in refs]


@pytest.mark.parametrize("executor", EXECUTORS)
async def test_round_trip_on_each_executor(
    chancy: Chancy, executor: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="chancy")
    jobs = [
        pushed(rj.returns, value=VALUE),
        pushed(rj.async_returns, value=[1, "two"]),
        pushed(rj.returns_nothing),
        pushed(rj.returns_a_set),
    ]
    value, from_async, nothing, a_set = await run_all(
        chancy, Queue("r", executor=executor, concurrency=2), jobs
    )
    assert [j.state for j in (value, from_async, nothing, a_set)] == ["succeeded"] * 4
    assert value.result == VALUE and "result_error" not in value.meta
    assert from_async.result == [1, "two"]
    # None is "no result": NULL, and nothing to explain.
    assert nothing.result is None and "result_error" not in nothing.meta
    # Not JSON: the job still succeeds, and says why its result is missing.
    assert a_set.result is None
    assert "not JSON-serialisable" in a_set.meta["result_error"]
    warned = [r for r in caplog.records if getattr(r, "result_error", None)]
    assert [r.job_id for r in warned] == [str(a_set.id)]
    # Every read returns the stored result.
    ref = value.reference
    assert (await chancy.get_job(ref)).result == VALUE  # type: ignore[union-attr]
    assert chancy.sync_get_job(ref).result == VALUE  # type: ignore[union-attr]
    assert [j.result for j in await chancy.get_jobs([ref])] == [VALUE]
    assert (await chancy.wait_for_job(ref, timeout=1)).result == VALUE  # type: ignore[union-attr]


async def test_process_results_that_cannot_come_back_are_explained(chancy: Chancy) -> None:
    unpicklable, unrebuildable = await run_all(
        chancy,
        Queue("r", executor=Chancy.Executor.Process, concurrency=1),
        [pushed(rj.returns_a_lock), pushed(rj.returns_unrebuildable)],
    )
    assert unpicklable.state == unrebuildable.state == "succeeded"
    assert unpicklable.result is None and unrebuildable.result is None
    assert "could not be pickled in the child process" in unpicklable.meta["result_error"]
    assert "could not unpickle it" in unrebuildable.meta["result_error"]
    assert "cannot be rebuilt" in unrebuildable.meta["result_error"]


async def test_values_jsonb_rejects_are_explained_and_never_block_other_outcomes(
    chancy: Chancy,
) -> None:
    nul, nan, fine = await run_all(
        chancy,
        Queue("r", executor=Chancy.Executor.Async, concurrency=3),
        [pushed(rj.returns_nul), pushed(rj.returns_nan), pushed(rj.returns, value=1)],
    )
    assert nul.state == nan.state == fine.state == "succeeded"
    assert "NUL character" in nul.meta["result_error"]
    assert "not JSON-serialisable" in nan.meta["result_error"]
    assert fine.result == 1


async def test_size_limit_set_on_chancy_and_overridden_per_queue(dsn: str) -> None:
    async with pooled_chancy(dsn, no_default_plugins=True, max_result_bytes=100) as app:
        # Sizes are bytes of JSON: 98 characters plus two quotes is exactly 100.
        at_limit, over = await run_all(
            app,
            Queue("r", executor=Chancy.Executor.Async),
            [pushed(rj.returns_text, size=98), pushed(rj.returns_text, size=99)],
        )
        assert at_limit.result == "x" * 98
        assert over.state == "succeeded" and over.result is None
        assert "101 bytes of JSON, more than the limit of 100" in over.meta["result_error"]

        # A queue's own limit wins over the app's, in either direction.
        small, big = await run_all(
            app,
            Queue("q", executor=Chancy.Executor.Async, max_result_bytes=10),
            [pushed(rj.returns_text, "q", size=20), pushed(rj.returns_text, "q", size=5)],
        )
        assert small.result is None and "limit of 10" in small.meta["result_error"]
        assert big.result == "x" * 5
        (large,) = await run_all(
            app,
            Queue("q", executor=Chancy.Executor.Async, max_result_bytes=1000),
            [pushed(rj.returns_text, "q", size=500)],
        )
        assert large.result == "x" * 500


async def test_a_job_can_opt_out_of_storing_its_result(chancy: Chancy) -> None:
    assert rj.keeps_result_to_itself.job.stores_result is False
    decorated, pushed_off, usual = await run_all(
        chancy,
        Queue("r", executor=Chancy.Executor.Async, concurrency=3),
        [
            rj.keeps_result_to_itself.job.with_queue("r"),
            pushed(rj.returns, value=[1]).with_store_result(False),
            pushed(rj.returns, value=[1]),
        ],
    )
    for job in (decorated, pushed_off):
        assert job.state == "succeeded" and job.result is None
        assert "result_error" not in job.meta
    assert usual.result == [1]


async def test_retry_clears_the_old_result_and_a_new_run_clears_an_old_error(
    chancy: Chancy,
) -> None:
    async with running_worker(chancy, Queue("r", executor=Chancy.Executor.Async)):
        ref = await chancy.push(pushed(rj.returns, value="first"))
        done = await chancy.wait_for_job(ref, interval=0.05, timeout=WAIT)
        assert done is not None and done.result == "first"
        # Pretend an earlier run could not store its result: a stored run clears that.
        table = chancy.models.Job.__table__
        async with chancy.engine.begin() as conn:
            await conn.execute(
                sa.update(table)
                .where(table.c.id == ref.identifier)
                .values(meta={"result_error": "old"}, kwargs={"value": "second"})
            )
        await chancy.retry_jobs([ref])
        retried = await chancy.get_job(ref)
        assert retried is not None and retried.result is None
        again = await chancy.wait_for_job(ref, interval=0.05, timeout=WAIT)
    assert again is not None and again.result == "second"
    assert "result_error" not in again.meta


async def test_pruner_removes_the_result_with_its_job(chancy: Chancy) -> None:
    (done,) = await run_all(
        chancy, Queue("r", executor=Chancy.Executor.Async), [pushed(rj.returns, value=VALUE)]
    )
    assert done.result == VALUE
    table = chancy.models.Job.__table__
    two_days_ago = sa.func.now() - dt.timedelta(days=2)
    async with chancy.engine.begin() as conn:
        await conn.execute(
            sa.update(table)
            .where(table.c.id == done.id)
            .values(completed_at=two_days_ago, created_at=two_days_ago)
        )
    assert await Pruner().prune(chancy) == 1
    assert await chancy.get_job(done.reference) is None
    async with chancy.engine.connect() as conn:
        left = (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()
    assert left == 0
