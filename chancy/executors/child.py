"""The side of the process executor that runs inside each child process.

A child serves one job at a time over its pipe: it receives a :class:`QueuedJob`, runs it
with the same :mod:`chancy.executors.calling` helpers every executor uses, and answers
with one pickled reply. Nothing here talks to the database or to asyncio in the parent,
so a child is cheap to replace when a job has to be killed.

Replies carry the outcome, the result or exception pickled separately (so a value the
parent cannot rebuild costs only that value), the child's formatted traceback, the job's
possibly-changed ``meta``, and a ``retire`` flag asking the parent to replace this child
(after a ``MemoryError`` its heap may be in a poor state). :func:`decode_reply` is the
parent's half of that format.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from chancy.executors.base import ResultNotReturned
from chancy.executors.calling import call_blocking
from chancy.job import Limit, QueuedJob
from chancy.queue import MAX_RESULT_BYTES_CEILING

try:
    import resource
except ImportError:  # Windows: memory limits are not available
    resource = None  # type: ignore[assignment]

__all__ = ["STOP_SIGNALS", "RemoteJobError", "RemoteTraceback", "decode_reply", "serve"]

#: The largest pickled result sent back to the worker (the stored-result ceiling).
MAX_RESULT_BYTES = MAX_RESULT_BYTES_CEILING


class RemoteJobError(Exception):
    """Stands in for an exception raised in a child that could not be pickled back."""


#: Signals that stop a whole process group (Ctrl-C, systemd, Kubernetes): the worker's
#: to handle, never a child's.
STOP_SIGNALS = frozenset(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name)
)
#: Resolves a job as the executor would: ``(job, function, kwargs)``, or raises.
Prepare = Callable[[QueuedJob], tuple[QueuedJob, Callable[..., Any], dict[str, Any]]]


def serve(conn: Connection, prepare: Prepare, initializer: Callable[[], None] | None) -> None:
    """The child's main loop: run jobs until the parent sends ``None`` or goes away."""
    ignore_stop_signals()
    if initializer is not None:
        initializer()
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return  # the parent died or closed the pipe: nothing left to do
        if job is None:
            return
        conn.send_bytes(run(job, prepare))


def ignore_stop_signals() -> None:
    """Let SIGINT and SIGTERM sent to the whole process group pass this child by.

    The worker gets them too: it lets running jobs finish, then stops its children
    itself (with SIGKILL, or by asking idle ones to exit). Children start with the two
    signals blocked (the threads that start them block them, see ``handle.py``), so one
    that arrives while the child imports stays pending until the handler below is in
    place. The handler is a no-op function rather than ``SIG_IGN``, which processes a
    job starts would inherit.
    """
    for signum in STOP_SIGNALS:
        signal.signal(signum, _ignore)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _ignore(signum: int, frame: object) -> None:
    """A stop signal meant for the worker: nothing to do here."""


def run(job: QueuedJob, prepare: Prepare) -> bytes:
    """Run one job and return its pickled reply; never raises."""
    try:
        job, func, kwargs = prepare(job)
        with memory_limit(job.limit(Limit.Type.MEMORY)):
            result = call_blocking(func, kwargs)
    except BaseException as exc:  # SystemExit from a job must not end the child
        return _error_reply(exc, job.meta)
    return _ok_reply(result, job.meta)


@contextlib.contextmanager
def memory_limit(limit: Limit | None) -> Iterator[None]:
    """Cap this process's address space (RLIMIT_AS) while the job runs, then restore it.

    The cap covers the whole child, interpreter and imports included, not only what the
    job allocates. Where :mod:`resource` is missing (Windows) the limit is not applied.
    """
    if limit is None or resource is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    value = int(limit.value)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(resource.RLIMIT_AS, (value, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _ok_reply(result: Any, meta: Any) -> bytes:
    """A result that can't cross the pipe is replaced by a :class:`ResultNotReturned`
    saying why, so the job still succeeds and the worker can record the reason."""
    try:
        payload = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:
        payload = _not_returned(f"it could not be pickled in the child process ({exc!r})")
    else:
        if len(payload) > MAX_RESULT_BYTES:
            payload = _not_returned(
                f"it is {len(payload)} bytes pickled, more than the {MAX_RESULT_BYTES} a "
                "child process sends back"
            )
    return _pack((True, payload, None, None, meta, False))


def _not_returned(reason: str) -> bytes:
    return pickle.dumps(ResultNotReturned(reason), pickle.HIGHEST_PROTOCOL)


def _error_reply(exc: BaseException, meta: Any) -> bytes:
    text = "".join(traceback.format_exception(exc))
    summary = "".join(traceback.format_exception_only(exc)).strip()
    return _pack((False, _dumps(exc), text, summary, meta, isinstance(exc, MemoryError)))


def _dumps(value: Any) -> bytes | None:
    try:
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None


def _pack(reply: tuple[Any, ...]) -> bytes:
    packed = _dumps(reply)
    if packed is None:  # only meta can be left that does not pickle: None keeps the old meta
        packed = pickle.dumps((*reply[:4], None, reply[5]), pickle.HIGHEST_PROTOCOL)
    return packed


class RemoteTraceback(Exception):
    """Carries the child's formatted traceback as the ``__cause__`` of the parent's copy
    of a job's exception, so the stored error entry shows where the job really failed."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return f'\n"""\n{self.text.rstrip()}\n"""'


def decode_reply(data: bytes) -> tuple[bool, Any, dict[str, Any] | None, bool]:
    """Parent side: ``(ok, result or exception, meta or None, retire)`` from a reply.

    The result and the exception are unpickled on their own, because their classes may
    exist only in the child (defined in the worker's ``__main__``, say): a result that
    cannot be rebuilt becomes a :class:`ResultNotReturned` and an exception a
    :class:`RemoteJobError`.
    """
    ok, payload, text, summary, meta, retire = pickle.loads(data)
    try:
        value = pickle.loads(payload) if payload is not None else None
    except Exception as exc:
        value = ResultNotReturned(f"the worker could not unpickle it ({exc!r})")
    if not ok:
        if not isinstance(value, BaseException):
            value = RemoteJobError(summary or "The job failed in its child process.")
        value.__cause__ = RemoteTraceback(text or "")
    return ok, value, meta, retire
