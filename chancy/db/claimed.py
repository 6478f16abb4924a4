"""Jobs from claim rows, for the worker's hot path.

The claim returns only what a run needs (:data:`CLAIM_RETURNS`): what the claimer knows
already (the queue, the new state and owner, no completion time or result) is filled in
here. Its JSON columns are read as text (see ``HotStatement.run``'s ``json_as_text``);
most claimed jobs have empty ``limits``, ``meta`` and ``errors`` and often empty
``kwargs``, so those are not decoded at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from chancy.job import Limit, QueuedJob

__all__ = ["CLAIM_RETURNS", "claimed_jobs"]

#: The jobs columns the claim returns, in this order.
CLAIM_RETURNS = (
    "id",
    "func",
    "kwargs",
    "limits",
    "meta",
    "priority",
    "max_attempts",
    "scheduled_at",
    "unique_key",
    "created_at",
    "started_at",
    "attempts",
    "errors",
    "claim_id",
)

_RUNNING = QueuedJob.State.RUNNING


def claimed_jobs(rows: Sequence[Sequence[Any]], *, queue: str, worker_id: str) -> list[QueuedJob]:
    """:meth:`QueuedJob.unpack` for claim rows (columns as :data:`CLAIM_RETURNS`, JSON
    as text) claimed from ``queue`` by ``worker_id``, about 4x cheaper.

    Jobs are built without the dataclass ``__init__`` (a stored row has no checks to
    run, and its per-field ``object.__setattr__`` was a fifth of the worker's time per
    job) and straight from the row tuples. Each equals what :meth:`QueuedJob.unpack`
    builds from the decoded full row.
    """
    jobs = []
    new = object.__new__
    for (
        ident,
        func,
        kwargs,
        limits,
        meta,
        priority,
        max_attempts,
        scheduled_at,
        unique_key,
        created_at,
        started_at,
        attempts,
        errors,
        claim_id,
    ) in rows:
        job = new(QueuedJob)
        job.__dict__.update(
            func=func,
            queue=queue,
            kwargs=_json_text(kwargs, dict),
            priority=priority,
            max_attempts=max_attempts,
            scheduled_at=scheduled_at,
            limits=(
                [Limit.deserialize(lim) for lim in json.loads(limits)]
                if limits and limits != "[]"
                else []
            ),
            unique_key=unique_key,
            meta=_json_text(meta, dict),
            id=ident,
            created_at=created_at,
            started_at=started_at,
            completed_at=None,
            attempts=attempts,
            state=_RUNNING,
            errors=_json_text(errors, list),
            claim_id=claim_id,
            taken_by=worker_id,
            _time_limit_deadline=None,
        )
        jobs.append(job)
    return jobs


def _json_text(text: str | None, empty: Callable[[], Any]) -> Any:
    """A JSON column read as text: decoded unless it is the empty ``{}``/``[]``/NULL."""
    if text is None or text == "{}" or text == "[]":
        return empty()
    return json.loads(text) or empty()  # as unpack: a stored null reads as empty
