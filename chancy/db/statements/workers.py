"""Worker registry statements: heartbeats, deregistration and the cluster listing."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from chancy.db.models import Models


def build_forget_expired(models: Models) -> sa.Delete:
    """Every heartbeat also garbage-collects peers whose lease ran out."""
    t = models.Worker.__table__
    return sa.delete(t).where(t.c.expires_at < sa.func.now())


def build_announce(
    models: Models, worker_id: str, tags: list[str], queues: list[str], timeout: float
) -> sa.Insert:
    t = models.Worker.__table__
    expires = sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, 0, timeout)
    stmt = pg.insert(t).values(
        worker_id=worker_id, tags=tags, queues=queues, last_seen=sa.func.now(), expires_at=expires
    )
    return stmt.on_conflict_do_update(
        index_elements=[t.c.worker_id],
        set_={
            "tags": stmt.excluded.tags,
            "queues": stmt.excluded.queues,
            "last_seen": stmt.excluded.last_seen,
            "expires_at": stmt.excluded.expires_at,
        },
    )


def build_deregister(models: Models, worker_id: str) -> sa.Delete:
    t = models.Worker.__table__
    return sa.delete(t).where(t.c.worker_id == worker_id)


def build_get_all_workers(models: Models) -> sa.Select[Any]:
    w = models.Worker.__table__
    leader = models.Leader.__table__
    return (
        sa.select(
            w.c.worker_id,
            w.c.tags,
            w.c.queues,
            w.c.last_seen,
            w.c.expires_at,
            (leader.c.worker_id.is_not(None)).label("is_leader"),
        )
        .select_from(w.outerjoin(leader, leader.c.worker_id == w.c.worker_id))
        .order_by(w.c.worker_id)
    )
