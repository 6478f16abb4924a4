"""Statements of the Prometheus collector: each one bounded, run at scrape time.

A scrape runs them in one read-only transaction with a local ``statement_timeout``, so a
slow database makes a scrape fail fast instead of piling up connections. The counts per
state use the ``(queue, state)`` index; every other query reads only active jobs (the
claim index) or jobs finished within a short window (the ``(state, completed_at)``
index), so their cost does not grow with the number of finished jobs kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import sqlalchemy as sa

from chancy.db.models import FINISHED_STATES, READY_STATES, Models
from chancy.db.statements._sql import seconds, state_in


def build_statement_timeout(milliseconds: int) -> sa.Select[Any]:
    """``SET LOCAL statement_timeout``: lasts until the scrape's transaction ends."""
    return sa.select(sa.func.set_config("statement_timeout", str(int(milliseconds)), sa.true()))


def build_job_counts(models: Models) -> sa.Select[Any]:
    """Jobs per queue and state."""
    t = models.Job.__table__
    return (
        sa.select(t.c.queue, t.c.state, sa.func.count().label("jobs"))
        .group_by(t.c.queue, t.c.state)
        .order_by(t.c.queue, t.c.state)
    )


def build_queue_backlog(models: Models) -> sa.Select[Any]:
    """Per declared queue: its state, the jobs ready to run now, and the oldest one's wait.

    "Ready" is what a worker could claim this instant (pending or retrying, due, attempts
    left); ``oldest_age`` is seconds since the oldest of them became due, NULL when none
    is waiting.
    """
    q = models.Queue.__table__
    j = models.Job.__table__
    ready = sa.and_(
        j.c.queue == q.c.name,
        state_in(j.c.state, READY_STATES),
        j.c.scheduled_at <= sa.func.now(),
        j.c.attempts < j.c.max_attempts,
    )
    age = sa.extract("epoch", sa.func.now() - sa.func.min(j.c.scheduled_at))
    return (
        sa.select(
            q.c.name.label("queue"),
            q.c.state,
            sa.func.count(j.c.id).label("ready"),
            age.label("oldest_age"),
        )
        .select_from(q.outerjoin(j, ready))
        .group_by(q.c.name, q.c.state)
        .order_by(q.c.name)
    )


def build_recently_finished(models: Models, window: float) -> sa.Select[Any]:
    """Jobs per queue and final state that finished within the last ``window`` seconds."""
    t = models.Job.__table__
    return (
        sa.select(t.c.queue, t.c.state, sa.func.count().label("jobs"))
        .where(
            state_in(t.c.state, FINISHED_STATES),
            t.c.completed_at >= sa.func.now() - seconds(window),
        )
        .group_by(t.c.queue, t.c.state)
        .order_by(t.c.queue, t.c.state)
    )


def build_duration_buckets(
    models: Models, kind: Literal["run", "wait"], window: float, bounds: Sequence[float]
) -> sa.Select[Any]:
    """A histogram per queue of recent jobs: count, sum, and cumulative bucket counts.

    ``run``: seconds from start to completion of jobs finished in the window.
    ``wait``: seconds from becoming due (``scheduled_at``, the push time unless scheduled
    later) to being started, for jobs started in the window. Bucket ``b{i}`` counts the
    values at most ``bounds[i]``; negative values (clock skew) count as zero.
    """
    t = models.Job.__table__
    since = sa.func.now() - seconds(window)
    if kind == "run":
        value = t.c.completed_at - t.c.started_at
        where = [
            state_in(t.c.state, FINISHED_STATES),
            t.c.completed_at >= since,
            t.c.started_at.is_not(None),
        ]
    else:
        value = t.c.started_at - t.c.scheduled_at
        where = [t.c.started_at >= since]
    secs = sa.func.greatest(sa.extract("epoch", value), 0)
    buckets = [
        sa.func.count().filter(secs <= sa.literal(float(b), sa.Float)).label(f"b{i}")
        for i, b in enumerate(bounds)
    ]
    return (
        sa.select(
            t.c.queue,
            sa.func.count().label("count"),
            sa.func.coalesce(sa.func.sum(secs), 0).label("total"),
            *buckets,
        )
        .where(*where)
        .group_by(t.c.queue)
        .order_by(t.c.queue)
    )
