"""Checks every executor must pass, run by each executor's test module on a real worker.

Each check pushes jobs from :mod:`tests.worker.executor_jobs` into one queue served by
the executor under test and reads the outcome back from the jobs table.
"""

from __future__ import annotations

from pathlib import Path

from chancy import Chancy, Job, Queue, QueuedJob
from tests.worker import executor_jobs as ej
from tests.worker.worker_helpers import max_overlap, running_worker

#: Generous: a cold process-executor child needs a couple of seconds on a busy machine.
WAIT = 20


def queue(executor: str, concurrency: int = 2, **options: object) -> Queue:
    """The queue under test; a 1 s poll picks up retries without a notification quickly."""
    return Queue(
        "ex",
        executor=executor,
        concurrency=concurrency,
        executor_options=options,
        polling_interval=1,
    )


async def finish(app: Chancy, job: Job) -> QueuedJob:
    ref = await app.push(job)
    done = await app.wait_for_job(ref, interval=0.05, timeout=WAIT)
    assert done is not None
    return done


async def check_sync_and_async_jobs_with_context(app: Chancy, executor: str) -> list[QueuedJob]:
    """Both kinds of function run; the QueuedJob parameter is the running job, and the
    changes the function makes to its meta are saved."""
    async with running_worker(app, queue(executor)):
        sync = await finish(
            app,
            Job.from_func(ej.sync_meta, queue="ex", kwargs={"value": "s"}, meta={"kept": 1}),
        )
        asynchronous = await finish(
            app, Job.from_func(ej.async_meta, queue="ex", kwargs={"value": "a"})
        )
    assert sync.state == "succeeded", sync.errors
    assert sync.meta == {"kept": 1, "seen": "s", "sync": True}
    assert asynchronous.state == "succeeded", asynchronous.errors
    assert asynchronous.meta == {"seen": "a", "async": True}
    stored = await app.get_job(sync.reference)
    assert stored is not None and stored.meta == sync.meta
    return [sync, asynchronous]


async def check_failures(app: Chancy, executor: str) -> None:
    """A raising job gets an error entry per attempt with the traceback; kwargs that don't
    fit and functions that can't be imported fail only their own job, saying why."""
    async with running_worker(app, queue(executor)):
        failed = await finish(
            app,
            Job.from_func(ej.fail, queue="ex", kwargs={"message": "bad thing"}, max_attempts=2),
        )
        async_failed = await finish(
            app, Job.from_func(ej.async_fail, queue="ex", kwargs={"message": "async bad"})
        )
        misfit = await finish(
            app, Job.from_func(ej.takes_only_a, queue="ex", kwargs={"a": 1, "b": 2})
        )
        missing = await finish(app, Job(func="tests.worker.executor_jobs.nowhere", queue="ex"))
        survivor = await finish(
            app, Job.from_func(ej.sync_meta, queue="ex", kwargs={"value": "still here"})
        )

    assert failed.state == "failed" and failed.attempts == 2
    assert [e["attempt"] for e in failed.errors] == [0, 1]
    for entry in failed.errors:
        assert "ValueError: bad thing" in entry["traceback"]
        assert 'executor_jobs.py", line' in entry["traceback"]  # the job's own frame
        assert "in fail" in entry["traceback"]

    assert async_failed.state == "failed"
    assert "KeyError: 'async bad'" in async_failed.errors[-1]["traceback"]
    assert "in async_fail" in async_failed.errors[-1]["traceback"]

    assert misfit.state == "failed"
    text = misfit.errors[-1]["traceback"]
    assert "cannot be called with kwargs ['a', 'b']" in text
    assert "Push kwargs that match" in text

    assert missing.state == "failed"
    text = missing.errors[-1]["traceback"]
    assert "Could not import job function 'tests.worker.executor_jobs.nowhere'" in text
    assert "top level of a module" in text

    assert survivor.state == "succeeded"


async def check_concurrency_is_never_exceeded(
    app: Chancy, executor: str, tmp_path: Path, *, concurrency: int = 2, jobs: int = 6
) -> None:
    """Jobs record when they ran; at most ``concurrency`` of them ever overlap, and the
    executor does use its slots (the overlap reaches ``concurrency``)."""
    spans = tmp_path / "spans"
    spans.mkdir()
    async with running_worker(app, queue(executor, concurrency=concurrency)):
        refs = [
            await app.push(
                Job.from_func(ej.span, queue="ex", kwargs={"directory": str(spans), "hold": 0.4})
            )
            for _ in range(jobs)
        ]
        done = await app.wait_for_jobs(refs, interval=0.05, timeout=WAIT)
    assert [j.state for j in done] == ["succeeded"] * jobs
    intervals = ej.read_spans(str(spans))
    assert len(intervals) == jobs
    assert max_overlap(intervals) == concurrency
