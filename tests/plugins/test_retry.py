"""RetryPlugin: backoff schedules, attempt limits and retrying only listed exceptions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest

from chancy import Job, Queue, QueuedJob
from chancy.executors.base import JobCancelledError
from chancy.plugins.leadership import ImmediateLeadership
from chancy.plugins.retry import RetryPlugin, retry_settings, with_retry
from chancy.worker import Worker
from tests.helpers import rows
from tests.plugins import plugin_jobs
from tests.plugins.helpers import ASYNC, job, push_all, started
from tests.prefix_pool import pooled_chancy

State = QueuedJob.State
NO_JITTER = {"backoff_jitter": [0, 0]}


def queued(attempts: int, max_attempts: int = 5, **meta: Any) -> QueuedJob:
    """A job as the worker hands it to plugins after a failed run (already RETRYING/FAILED)."""
    return QueuedJob(
        id=uuid.uuid4(),
        func="app.tasks.flaky",
        created_at=dt.datetime.now(dt.UTC),
        attempts=attempts,
        max_attempts=max_attempts,
        state=State.RETRYING if attempts < max_attempts else State.FAILED,
        meta=meta,
    )


async def completed(job: QueuedJob, exc: BaseException | None) -> QueuedJob:
    worker: Worker = None  # type: ignore[assignment] - the plugin never touches it
    return await RetryPlugin().on_job_completed(worker=worker, job=job, exc=exc)


@pytest.mark.parametrize(("attempts", "expected"), [(1, 2.0), (2, 6.0), (3, 18.0), (4, 20.0)])
async def test_delay_grows_exponentially_up_to_the_limit(attempts: int, expected: float) -> None:
    settings = retry_settings(backoff=2, backoff_factor=3, backoff_limit=20, backoff_jitter=(0, 0))
    before = dt.datetime.now(dt.UTC)
    new = await completed(queued(attempts, retry_settings=settings), ValueError("x"))
    assert new.state == State.RETRYING and new.completed_at is None
    delay = (new.scheduled_at - before).total_seconds()
    assert expected <= delay < expected + 0.5


async def test_jitter_is_added_within_its_range() -> None:
    settings = retry_settings(backoff=1, backoff_jitter=(2, 3))
    for _ in range(20):
        delay = RetryPlugin.delay(queued(1, retry_settings=settings), settings)
        assert 3 <= delay <= 4


async def test_defaults_apply_without_settings() -> None:
    before = dt.datetime.now(dt.UTC)
    new = await completed(queued(1), ValueError("x"))
    # backoff 1 s * 2**0, plus jitter in [1, 5].
    assert 2 <= (new.scheduled_at - before).total_seconds() < 6.5


async def test_out_of_attempts_ends_failed() -> None:
    new = await completed(queued(5, max_attempts=5), ValueError("x"))
    assert new.state == State.FAILED and new.completed_at is not None


async def test_settings_max_attempts_overrides_the_jobs() -> None:
    settings = retry_settings(max_attempts=3, **NO_JITTER)
    assert (await completed(queued(2, 2, retry_settings=settings), ValueError())).state == (
        State.RETRYING
    )
    new = await completed(queued(2, 2, retry_settings=settings), ValueError())
    assert new.max_attempts == 3
    assert (await completed(queued(3, 9, retry_settings=settings), ValueError())).state == (
        State.FAILED
    )


@pytest.mark.parametrize(
    ("listed", "exc", "retried"),
    [
        (["ValueError"], ValueError("x"), True),
        (["builtins.ValueError"], ValueError("x"), True),
        ([ValueError], ValueError("x"), True),
        ([OSError], ConnectionResetError("x"), True),  # subclasses count
        (["ConnectionError"], ConnectionResetError("x"), True),
        (["ValueError"], KeyError("x"), False),
        (["other.module.ValueError"], ValueError("x"), False),
        ([], ValueError("x"), False),
    ],
)
async def test_only_listed_exceptions_are_retried(
    listed: list[Any], exc: BaseException, retried: bool
) -> None:
    settings = retry_settings(retry_exceptions=listed, **NO_JITTER)
    new = await completed(queued(1, retry_settings=settings), exc)
    assert new.state == (State.RETRYING if retried else State.FAILED)


async def test_success_and_cancellation_are_left_alone() -> None:
    ok = dataclasses.replace(queued(1), state=State.SUCCEEDED)
    assert await completed(ok, None) is ok

    cancelled = dataclasses.replace(queued(1), state=State.FAILED)
    assert (await completed(cancelled, JobCancelledError())).state == State.FAILED


def test_settings_are_validated_and_json_ready() -> None:
    assert retry_settings(retry_exceptions=[KeyError, "x.Y"], max_attempts=4) == {
        "backoff": 1,
        "backoff_factor": 2.0,
        "backoff_limit": 300,
        "backoff_jitter": [1, 5],
        "max_attempts": 4,
        "retry_exceptions": ["builtins.KeyError", "x.Y"],
    }
    with pytest.raises(ValueError, match="backoff_jitter"):
        retry_settings(backoff_jitter=(5, 1))
    with pytest.raises(ValueError, match="backoff_factor"):
        retry_settings(backoff_factor=0.5)
    with pytest.raises(TypeError, match="exception classes"):
        retry_settings(retry_exceptions=[42])  # type: ignore[list-item]
    built = with_retry(Job(func="a.b", meta={"keep": 1}), max_attempts=4, backoff=3)
    assert built.max_attempts == 4
    assert built.meta["keep"] == 1 and built.meta["retry_settings"]["backoff"] == 3


async def test_a_worker_waits_out_the_backoff_between_attempts(dsn: str) -> None:
    async with pooled_chancy(
        dsn, plugins=[ImmediateLeadership(), RetryPlugin()], no_default_plugins=True
    ) as app:
        flaky = with_retry(
            job("fail_then_succeed", queue="flaky"),
            max_attempts=3,
            backoff=0.4,
            backoff_factor=2,
            backoff_jitter=(0, 0),
            retry_exceptions=[ConnectionError],
        )
        wrong = with_retry(
            job("fail", queue="flaky", kwargs={"kind": "KeyError"}),
            max_attempts=3,
            retry_exceptions=[ConnectionError],
        )
        queue = Queue("flaky", executor=ASYNC, polling_interval=0.1)
        async with started(app, queue):
            ref, wrong_ref = await push_all(app, [flaky, wrong])
            done = await app.wait_for_job(ref, interval=0.05, timeout=10)
            failed = await app.wait_for_job(wrong_ref, interval=0.05, timeout=10)
        assert done is not None and done.state == State.SUCCEEDED and done.attempts == 3
        assert [e["attempt"] for e in done.errors] == [0, 1]
        # Each retry started no earlier than its backoff (0.4 s, then 0.8 s) after the
        # previous failure, and not much later (the queue polls every 0.1 s).
        runs = plugin_jobs.RUNS[str(ref.identifier)]
        # What the running function saw: the attempts completed before its run (upstream).
        assert [attempt for attempt, _ in runs] == [0, 1, 2]
        gaps = [b - a for (_, a), (_, b) in zip(runs, runs[1:], strict=False)]
        assert 0.4 <= gaps[0] < 1.4 and 0.8 <= gaps[1] < 1.8, gaps
        row = (await rows(app, [ref]))[ref.identifier]
        assert row.meta["retry_settings"]["backoff"] == 0.4
        assert failed is not None and failed.state == State.FAILED and failed.attempts == 1
        assert "KeyError" in failed.errors[0]["traceback"]


async def test_retry_is_scheduled_in_the_database(dsn: str) -> None:
    """The completer stores the plugin's scheduled_at: the job is not claimable before it."""
    async with pooled_chancy(dsn, plugins=[RetryPlugin()], no_default_plugins=True) as app:
        flaky = with_retry(job("fail", queue="slow"), max_attempts=2, backoff=30, **NO_JITTER)
        [ref] = await push_all(app, [flaky])
        queue = Queue("slow", executor=ASYNC, polling_interval=0.1)
        before = dt.datetime.now(dt.UTC)
        async with started(app, queue) as worker:
            assert await worker.hub.wait_for("worker.jobs.updated", timeout=5)
            after = dt.datetime.now(dt.UTC)
        row = (await rows(app, [ref]))[ref.identifier]
    assert row.state == "retrying" and row.attempts == 1
    assert before + dt.timedelta(seconds=30) <= row.scheduled_at
    assert row.scheduled_at <= after + dt.timedelta(seconds=30)
