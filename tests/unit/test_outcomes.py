"""Pure outcome rules of the worker (chancy.worker.outcomes), without a database."""

from __future__ import annotations

import datetime as dt
import pickle
import uuid
from typing import Any

import pytest

from chancy.executors.base import JobCancelledError
from chancy.executors.child import decode_reply, run
from chancy.job import Job, QueuedJob
from chancy.worker.outcomes import Outcome, after_run, evolve, requeued, retryable


class JobCancelledErrorLookalike(Exception):
    pass


JobCancelledErrorLookalike.__name__ = "JobCancelledError"


def raise_cancelled() -> None:
    raise JobCancelledError("stopped in the child")


def test_a_cancellation_is_never_retried() -> None:
    assert not retryable(JobCancelledError("cancelled"))
    assert retryable(ValueError("boom"))


def test_an_unrelated_class_sharing_the_name_is_retried() -> None:
    assert retryable(JobCancelledErrorLookalike("not ours"))


def test_a_cancellation_pickled_across_the_pipe_is_still_final() -> None:
    copy = pickle.loads(pickle.dumps(JobCancelledError("cancelled")))
    assert not retryable(copy)


def test_a_cancellation_raised_in_a_child_is_still_final() -> None:
    """The child's reply is pickled and rebuilt in the parent, as across the pipe."""
    job = QueuedJob(
        func=Job.from_func(raise_cancelled).func,
        id=uuid.uuid4(),
        created_at=dt.datetime.now(dt.UTC),
    )
    ok, exc, _meta, _retire = decode_reply(run(job, lambda j: (j, raise_cancelled, {})))
    assert not ok and type(exc) is JobCancelledError
    assert not retryable(exc)


def queued(**fields: Any) -> QueuedJob:
    return QueuedJob(
        func=Job.from_func(raise_cancelled).func,
        id=uuid.uuid4(),
        created_at=dt.datetime.now(dt.UTC),
        **fields,
    )


def test_a_run_without_error_succeeds_and_counts_its_attempt() -> None:
    running = queued(state=QueuedJob.State.RUNNING, attempts=1, max_attempts=3)
    done = after_run(running, None)
    assert done.state == QueuedJob.State.SUCCEEDED and done.attempts == 2
    assert done.completed_at is not None and done.errors == []
    assert running.state == QueuedJob.State.RUNNING and running.attempts == 1  # a copy


def test_a_failure_with_attempts_left_retries_and_records_the_error() -> None:
    earlier = {"attempt": 0, "traceback": "first"}
    running = queued(attempts=1, max_attempts=3, errors=[earlier])
    failed = after_run(running, ValueError("second run broke"))
    assert failed.state == QueuedJob.State.RETRYING and failed.completed_at is None
    assert failed.attempts == 2
    assert failed.errors[0] == earlier and failed.errors[1]["attempt"] == 1
    assert "ValueError: second run broke" in failed.errors[1]["traceback"]
    assert running.errors == [earlier]


def test_the_last_attempt_fails_for_good() -> None:
    failed = after_run(queued(attempts=2, max_attempts=3), ValueError("again"))
    assert failed.state == QueuedJob.State.FAILED and failed.attempts == 3
    assert failed.completed_at is not None


def test_a_cancelled_run_fails_for_good_with_attempts_left() -> None:
    failed = after_run(queued(max_attempts=5), JobCancelledError("cancelled"))
    assert failed.state == QueuedJob.State.FAILED and failed.completed_at is not None


def test_an_interrupted_job_is_requeued_with_its_attempt_unused() -> None:
    started = dt.datetime.now(dt.UTC)
    running = queued(state=QueuedJob.State.RUNNING, attempts=1, started_at=started)
    back = requeued(running)
    assert back.state == QueuedJob.State.PENDING and back.started_at is None
    assert back.attempts == 1 and running.started_at == started


def test_evolve_copies_with_changes_and_refuses_unknown_fields() -> None:
    job = queued(meta={"k": 1})
    copy = evolve(job, attempts=4)
    assert copy.attempts == 4 and copy.meta == {"k": 1} and job.attempts == 0
    assert type(copy) is QueuedJob and copy == evolve(job, attempts=4)
    with pytest.raises(TypeError, match="no_such_field"):
        evolve(job, no_such_field=1)


def test_an_outcome_writes_only_the_errors_not_yet_stored() -> None:
    entries = [{"attempt": n, "traceback": str(n)} for n in range(3)]
    outcome = Outcome(queued(errors=entries), stored_errors=2)
    assert outcome.new_errors == [entries[2]]
    assert Outcome(queued(errors=entries), stored_errors=3).new_errors == []
