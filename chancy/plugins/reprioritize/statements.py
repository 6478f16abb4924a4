"""Reprioritize: raise the priority of waiting jobs that match a rule, page by page."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from chancy.db.models import READY_STATES, Models
from chancy.db.statements._sql import state_in
from chancy.rule import SQLAble


def build_upper_bound(models: Models) -> sa.Select[Any]:
    """The largest job id now: a pass stops there, so it ends even while jobs arrive.

    Postgres has no ``max(uuid)``; the primary key index serves this ORDER BY directly.
    """
    t = models.Job.__table__
    return sa.select(t.c.id).order_by(t.c.id.desc()).limit(1)


def build_raise_priority(
    models: Models,
    rule: SQLAble,
    *,
    after: uuid.UUID | None,
    upper: uuid.UUID,
    increase: int,
    maximum: int,
    limit: int,
) -> sa.Update:
    """Raise the next page (ids after ``after``, up to ``upper``) by ``increase``.

    Pages are walked by id, so each job is raised at most once per pass; upstream 0.25
    re-selected the same jobs every batch and kept raising them until they left the
    queue. Jobs already at ``maximum`` are skipped, and the sum is taken in BIGINT so
    it cannot overflow the INTEGER column. Returns the ids raised; the caller continues
    after the largest one.
    """
    t = models.Job.__table__
    conditions = [
        state_in(t.c.state, READY_STATES),
        t.c.id <= upper,
        t.c.priority < maximum,
        rule.to_sql(t),
    ]
    if after is not None:
        conditions.append(t.c.id > after)
    page = (
        sa.select(t.c.id)
        .where(*conditions)
        .order_by(t.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("page")
    )
    raised = sa.func.least(sa.cast(t.c.priority, sa.BigInteger) + increase, maximum)
    return (
        sa.update(t)
        .where(t.c.id == page.c.id)
        .values(priority=sa.cast(raised, sa.Integer))
        .returning(t.c.id)
    )
