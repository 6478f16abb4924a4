"""Jobs from claim rows, for the worker's hot path.

The worker's claim reads the JSON columns as text (see ``HotStatement.run``'s
``json_as_text``); most claimed jobs have empty ``limits``, ``meta`` and ``errors`` and
often empty ``kwargs``, so those are not decoded at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from chancy.job import Limit, QueuedJob

__all__ = ["claimed_job"]

_STATES = {state.value: state for state in QueuedJob.State}


def claimed_job(data: Mapping[str, Any]) -> QueuedJob:
    """:meth:`QueuedJob.unpack` for a claim row with JSON as text, about 4x cheaper.

    The job is built without the dataclass ``__init__`` (a stored row has no checks to
    run, and its per-field ``object.__setattr__`` was a fifth of the worker's time per
    job). The result equals what :meth:`QueuedJob.unpack` builds from the decoded row.
    """
    job = object.__new__(QueuedJob)
    limits = data["limits"]
    job.__dict__.update(
        func=data["func"],
        queue=data["queue"],
        kwargs=_json_text(data["kwargs"], dict),
        priority=data["priority"],
        max_attempts=data["max_attempts"],
        scheduled_at=data["scheduled_at"],
        limits=(
            [Limit.deserialize(lim) for lim in json.loads(limits)]
            if limits and limits != "[]"
            else []
        ),
        unique_key=data["unique_key"],
        meta=_json_text(data["meta"], dict),
        id=data["id"],
        created_at=data["created_at"],
        started_at=data["started_at"],
        completed_at=data["completed_at"],
        attempts=data["attempts"],
        state=_STATES[data["state"]],
        errors=_json_text(data["errors"], list),
        claim_id=data["claim_id"],
        taken_by=data["taken_by"],
        _time_limit_deadline=None,
    )
    return job


def _json_text(text: str | None, empty: Callable[[], Any]) -> Any:
    """A JSON column read as text: decoded unless it is the empty ``{}``/``[]``/NULL."""
    if text is None or text == "{}" or text == "[]":
        return empty()
    return json.loads(text) or empty()  # as unpack: a stored null reads as empty
