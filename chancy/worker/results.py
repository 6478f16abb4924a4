"""Storing a job's return value: encode it once, check it fits, or record why it can't.

A result is stored as the JSON its job returned (``jobs.result``). One that can't be
stored (not JSON, too big, or lost on its way back from a child process) never fails the
job and is never dropped silently: the reason goes to ``meta["result_error"]`` and the
worker logs a warning. Pure functions, no I/O.
"""

from __future__ import annotations

import json
from typing import Any

from chancy.executors.base import ResultNotReturned
from chancy.job import RESULT_ERROR_KEY, QueuedJob
from chancy.jsonvalues import has_escaped_nul
from chancy.worker.outcomes import evolve


def encode_result(value: Any, limit: int) -> tuple[str | None, str | None]:
    """``(json, None)`` to store, ``(None, reason)`` when it can't be, ``(None, None)``
    for a ``None`` result.

    The rules are those of a job's kwargs (strict JSON, no NaN), plus what jsonb and
    the size cap reject, checked here because one bad value in a completion batch would
    make the database refuse the whole batch.
    """
    if value is None:
        return None, None
    if isinstance(value, ResultNotReturned):
        return None, f"the result did not reach the worker: {value.reason}"
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return None, (
            f"the result is not JSON-serialisable ({exc}); return dicts, lists, strings, "
            "numbers, booleans or None"
        )
    if has_escaped_nul(text):
        return None, "the result contains a NUL character, which Postgres' jsonb cannot store"
    try:
        size = len(text.encode())
    except UnicodeEncodeError:
        return None, "the result contains a lone surrogate, which is not valid UTF-8"
    if size > limit:
        return None, (
            f"the result is {size} bytes of JSON, more than the limit of {limit} "
            "(max_result_bytes on the queue or on Chancy)"
        )
    return text, None


def settle_result(
    job: QueuedJob, value: Any, *, limit: int
) -> tuple[QueuedJob, str | None, str | None]:
    """A succeeded job as it will be stored: ``(job, result json, reason not stored)``.

    The job's ``result`` holds the value when it is stored, and its meta the reason
    when it isn't; a reason left by an earlier run is removed. Jobs that opted out
    (``store_result=False``) store nothing and record nothing.
    """
    text, reason = encode_result(value, limit) if job.stores_result else (None, None)
    meta = job.meta
    if reason is not None:
        meta = {**(meta or {}), RESULT_ERROR_KEY: reason}
    elif meta and RESULT_ERROR_KEY in meta:
        meta = {k: v for k, v in meta.items() if k != RESULT_ERROR_KEY}
    stored = value if text is not None else None
    if meta is job.meta and stored is job.result:
        return job, text, reason
    return evolve(job, meta=meta, result=stored), text, reason
