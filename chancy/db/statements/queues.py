"""Queue statements: declare, read, delete, pause, resume, and the rate-limit window."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from chancy.db.models import Models
from chancy.db.statements._sql import TEXTS, state_in
from chancy.queue import Queue

#: Job states that wait for a worker to claim them.
WAITING = ("pending", "retrying")

_UPSERTED = (
    "state",
    "concurrency",
    "tags",
    "executor",
    "executor_options",
    "polling_interval",
    "rate_limit",
    "rate_limit_window",
    "resume_at",
    "eager_polling",
    "max_result_bytes",
)


def queue_values(queue: Queue) -> dict[str, Any]:
    return {
        "name": queue.name,
        "state": queue.state.value,
        "concurrency": queue.concurrency,
        "tags": sorted(queue.tags),
        "executor": queue.executor,
        "executor_options": queue.executor_options,
        "polling_interval": queue.polling_interval,
        "rate_limit": queue.rate_limit,
        "rate_limit_window": queue.rate_limit_window,
        "resume_at": queue.resume_at,
        "eager_polling": queue.eager_polling,
        "max_result_bytes": queue.max_result_bytes,
    }


def row_to_queue(row: Any) -> Queue:
    return Queue.unpack(dict(row._mapping))


def build_declare(models: Models, queue: Queue, *, upsert: bool) -> sa.Insert:
    """Insert the queue; on conflict keep the stored row, or overwrite it with ``upsert``.

    Either way RETURNING yields the queue as stored.
    """
    t = models.Queue.__table__
    stmt = pg.insert(t).values(**queue_values(queue))
    changes = (
        {name: stmt.excluded[name] for name in _UPSERTED}
        if upsert
        else {"name": stmt.excluded.name}  # a no-op update so RETURNING has the row
    )
    return stmt.on_conflict_do_update(index_elements=[t.c.name], set_=changes).returning(*t.c)


def build_get_queue(models: Models, name: str) -> sa.Select[Any]:
    t = models.Queue.__table__
    return sa.select(t).where(t.c.name == name)


def build_get_all_queues(models: Models) -> sa.Select[Any]:
    t = models.Queue.__table__
    return sa.select(t).order_by(t.c.name)


def build_delete_queue(models: Models, name: str) -> sa.Delete:
    t = models.Queue.__table__
    return sa.delete(t).where(t.c.name == name)


def build_set_state(
    models: Models, name: str, state: Queue.State, resume_at: dt.datetime | None
) -> sa.Update:
    t = models.Queue.__table__
    return (
        sa.update(t)
        .where(t.c.name == name)
        .values(state=state.value, resume_at=resume_at)
        .returning(t.c.name)
    )


def build_take_window(models: Models, queue: str, window_seconds: int) -> sa.Insert:
    """Open or continue the queue's fixed window and return how much of it is used.

    The upsert locks the queue's row until the claiming transaction commits, so workers
    sharing a rate limit take turns and the budget holds across all of them. The window
    comes from the transaction's ``now()``, the same clock the claim stamps on
    ``started_at``, so a claim is always counted in the window its jobs say they started
    in (a Python clock could put a claim made at a window's edge in the previous one). A
    transaction that waited on the lock past a newer window never moves it back: it
    counts against the newer one.
    """
    t = models.QueueRateLimit.__table__
    epoch = sa.cast(sa.func.floor(sa.extract("epoch", sa.func.now())), sa.BigInteger)
    start = epoch - epoch % window_seconds
    stmt = pg.insert(t).values(queue=queue, window_start=start, count=0)
    same = t.c.window_start >= stmt.excluded.window_start
    return stmt.on_conflict_do_update(
        index_elements=[t.c.queue],
        set_={
            "count": sa.case((same, t.c.count), else_=0),
            "window_start": sa.func.greatest(t.c.window_start, stmt.excluded.window_start),
        },
    ).returning(t.c.count)


def build_spend_window(models: Models, queue: str, used: int) -> sa.Update:
    t = models.QueueRateLimit.__table__
    return sa.update(t).where(t.c.queue == queue).values(count=t.c.count + used)


def build_declared_names(models: Models, names: list[str]) -> sa.Select[Any]:
    """Which of ``names`` are declared queues (the strict push check)."""
    t = models.Queue.__table__
    return sa.select(t.c.name).where(t.c.name == sa.func.any(sa.bindparam("names", names, TEXTS)))


def build_undeclared_with_pending(models: Models) -> sa.Select[Any]:
    """Queues that hold pending or retrying jobs but were never declared.

    No worker serves such a queue, so its jobs would wait forever. The distinct queue
    names are found by a skip scan of the ``(queue, state)`` index (one probe per
    distinct queue, not a pass over every job), so the leader can run this often.
    """
    j = models.Job.__table__
    q = models.Queue.__table__
    first = sa.select(j.c.queue).order_by(j.c.queue).limit(1)
    seen = first.cte("seen", recursive=True)
    following = (
        sa.select(j.c.queue)
        .where(j.c.queue > seen.c.queue)
        .order_by(j.c.queue)
        .limit(1)
        .scalar_subquery()
    )
    seen = seen.union_all(sa.select(following.label("queue")).where(seen.c.queue.is_not(None)))
    declared = sa.exists().where(q.c.name == seen.c.queue)
    waiting = sa.exists().where(j.c.queue == seen.c.queue, state_in(j.c.state, WAITING))
    return (
        sa.select(seen.c.queue)
        .where(seen.c.queue.is_not(None), ~declared, waiting)
        .order_by(seen.c.queue)
    )


def build_job_counts(models: Models) -> sa.Select[Any]:
    """Jobs per queue and state, with how long the oldest job ready to run has waited.

    ``oldest_ready_seconds`` counts from ``scheduled_at`` (a job scheduled for later is
    not late) and is NULL for states that are not ready to run. Queues that were never
    declared appear too, which is how an operator spots jobs nobody will run.
    """
    t = models.Job.__table__
    ready = sa.and_(state_in(t.c.state, WAITING), t.c.scheduled_at <= sa.func.now())
    oldest = sa.func.min(t.c.scheduled_at).filter(ready)
    return (
        sa.select(
            t.c.queue,
            t.c.state,
            sa.func.count().label("jobs"),
            sa.func.extract("epoch", sa.func.now() - oldest).label("oldest_ready_seconds"),
        )
        .group_by(t.c.queue, t.c.state)
        .order_by(t.c.queue, t.c.state)
    )
