"""Leadership lease statements: one row (id 1) names the leader until ``expires_at``.

Every time is the database's ``now()``, never a worker's clock, so workers with skewed
clocks still agree on whether a lease has expired.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from chancy.db.models import Models
from chancy.db.statements._sql import seconds

#: The lease row's id. There is only ever one lease.
LEASE_ID = 1


def build_forget_expired(models: Models) -> sa.Delete:
    """Drop a lease whose holder stopped renewing it, so anyone may take it."""
    t = models.Leader.__table__
    return sa.delete(t).where(t.c.expires_at < sa.func.now())


def build_acquire(models: Models, worker_id: str, timeout: float) -> sa.Insert:
    """Take the free lease or renew our own; returns a row only if we now hold it.

    The conflict branch updates only when the lease is already ours, so a worker can
    never extend someone else's lease (upstream 0.25 renewed whatever row was there, so
    a deposed leader could keep the real leader's lease alive and still believe it led).
    Racing workers serialise on the primary key: exactly one insert wins.
    """
    t = models.Leader.__table__
    stmt = pg.insert(t).values(
        id=LEASE_ID,
        worker_id=worker_id,
        first_seen=sa.func.now(),
        expires_at=sa.func.now() + seconds(timeout),
    )
    return stmt.on_conflict_do_update(
        index_elements=[t.c.id],
        set_={"expires_at": stmt.excluded.expires_at},
        where=t.c.worker_id == stmt.excluded.worker_id,
    ).returning(t.c.worker_id, t.c.first_seen, t.c.expires_at)


def build_release(models: Models, worker_id: str) -> sa.Delete:
    """Give up the lease if we hold it, so a follower can take over at once."""
    t = models.Leader.__table__
    return sa.delete(t).where(t.c.worker_id == worker_id).returning(t.c.worker_id)
