"""How a run's ending becomes the job's next state. Pure functions, no I/O."""

from __future__ import annotations

import datetime as dt
import traceback
from typing import Any, NamedTuple

from chancy.executors.base import JobCancelledError
from chancy.job import ErrorT, QueuedJob

State = QueuedJob.State


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def evolve(job: QueuedJob, **changes: Any) -> QueuedJob:
    """``dataclasses.replace`` without re-running ``__init__``: a copy with ``changes``.

    Every outcome copies its job once; the generic replace cost ~30 us per job, a
    noticeable share of a no-op job's whole cost in the worker. Only field names are
    accepted, as with replace.
    """
    cls = type(job)
    fields = _FIELDS.get(cls)
    if fields is None:
        fields = _FIELDS[cls] = frozenset(cls.__dataclass_fields__)
    if not fields.issuperset(changes):
        raise TypeError(f"QueuedJob has no field(s) {sorted(changes.keys() - fields)}")
    copy = object.__new__(cls)
    state = copy.__dict__
    state.update(job.__dict__)
    state.update(changes)
    return copy


#: Field names per job class, for :func:`evolve`'s check.
_FIELDS: dict[type, frozenset[str]] = {}


def format_error(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def after_run(job: QueuedJob, exc: BaseException | None) -> QueuedJob:
    """Succeeded, or failed with an error entry: ``retrying`` while attempts remain.

    As upstream, an attempt is counted when its run ends: a running job's ``attempts``
    is the number of runs before this one, which is also this run's (zero-based)
    number in its error entry.
    """
    attempts = job.attempts + 1
    if exc is None:
        return evolve(job, state=State.SUCCEEDED, completed_at=_now(), attempts=attempts)
    entry: ErrorT = {"attempt": job.attempts, "traceback": format_error(exc)}
    out_of_attempts = attempts >= job.max_attempts or not retryable(exc)
    return evolve(
        job,
        state=State.FAILED if out_of_attempts else State.RETRYING,
        completed_at=_now() if out_of_attempts else None,
        attempts=attempts,
        errors=[*job.errors, entry],
    )


def retryable(exc: BaseException) -> bool:
    """Cancellation is final: a cancelled job is never retried.

    A class check, not a name check: an error from the process executor's child crosses
    the pipe pickled and is rebuilt as the very same class, and an unrelated exception
    that happens to share the name is an ordinary, retryable failure.
    """
    return not isinstance(exc, JobCancelledError)


def requeued(job: QueuedJob) -> QueuedJob:
    """Back to ``pending``, the attempt uncounted: it was interrupted, not failed."""
    return evolve(job, state=State.PENDING, started_at=None)


class Outcome(NamedTuple):
    """A job's new state, how many of its error entries were already stored, and the
    result to store as JSON text (see :mod:`chancy.worker.results`; None stores NULL).

    A tuple: one is made per job, and a frozen dataclass's ``__init__`` cost several
    times more."""

    job: QueuedJob
    stored_errors: int
    result: str | None = None

    @property
    def new_errors(self) -> list[ErrorT]:
        return self.job.errors[self.stored_errors :]
