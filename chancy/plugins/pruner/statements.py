"""Pruner: delete finished jobs that match a rule, a bounded batch at a time."""

from __future__ import annotations

import sqlalchemy as sa

from chancy.db.models import FINISHED_STATES, Models
from chancy.db.statements._sql import state_in
from chancy.rule import SQLAble


def build_prune(models: Models, rule: SQLAble, *, limit: int) -> sa.Delete:
    """Delete up to ``limit`` succeeded or failed jobs matching ``rule``.

    The state filter is part of the statement, whatever the rule says, so no rule can
    delete a job that is waiting or running (upstream 0.25 also pruned ``retrying``
    jobs). Each batch locks its rows with SKIP LOCKED, so pruning never waits on, or
    blocks, a transaction that holds a job.
    """
    t = models.Job.__table__
    doomed = (
        sa.select(t.c.id)
        .where(state_in(t.c.state, FINISHED_STATES), rule.to_sql(t))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("doomed")
    )
    return sa.delete(t).where(t.c.id == doomed.c.id)
