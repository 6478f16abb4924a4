"""Pure outcome rules of the worker, without a database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pickle
import uuid

import pytest

from chancy.executors.base import JobCancelledError
from chancy.executors.child import decode_reply, run
from chancy.job import Job, QueuedJob
from chancy.worker.outcomes import evolve, retryable


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


def test_evolve_copies_with_changes_and_refuses_unknown_fields() -> None:
    job = QueuedJob(func="m.f", id=uuid.uuid4(), created_at=dt.datetime.now(dt.UTC), meta={"a": 1})
    copy = evolve(job, attempts=2, state=QueuedJob.State.RUNNING)
    assert copy == dataclasses.replace(job, attempts=2, state=QueuedJob.State.RUNNING)
    assert job.attempts == 0 and copy is not job
    with pytest.raises(TypeError, match=r"\['nope'\]"):
        evolve(job, attempts=1, nope=2)
