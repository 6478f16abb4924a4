"""Workflow statements: upserts on push, and the few set-based statements one processing
pass runs for any number of workflows (lock, read steps, push jobs, write back)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from chancy.db.statements._sql import TEXTS, UUIDS, state_in
from chancy.plugins.workflow.models import ACTIVE_WORKFLOW_STATES, WorkflowModels

BIGINTS = pg.ARRAY(sa.BigInteger)
NIL = uuid.UUID(int=0)


def build_upsert_workflow(wm: WorkflowModels) -> sa.Insert:
    """Insert or update one workflow; ``inserted`` tells a new workflow from a re-push."""
    t = wm.Workflow.__table__
    stmt = pg.insert(t).values(
        id=sa.bindparam("wf_id"), name=sa.bindparam("wf_name"), state=sa.bindparam("wf_state")
    )
    return stmt.on_conflict_do_update(
        index_elements=[t.c.id],
        set_={
            "name": stmt.excluded.name,
            "state": stmt.excluded.state,
            "updated_at": sa.func.now(),
        },
    ).returning(
        t.c.id,
        t.c.created_at,
        t.c.updated_at,
        # xmax is 0 on a freshly inserted row version, set on one written by the update.
        sa.literal_column("(xmax = 0)").label("inserted"),
    )


def build_upsert_steps(wm: WorkflowModels) -> sa.Insert:
    """Insert or update a workflow's steps from arrays, in one statement.

    A re-push replaces a step's job and dependencies but never forgets the job already
    pushed for it, so re-pushing a running workflow cannot run a step twice.
    """
    t = wm.WorkflowStep.__table__
    v = (
        sa.func.unnest(
            sa.bindparam("st_step_ids", type_=TEXTS),
            sa.bindparam("st_jobs", type_=TEXTS),
            sa.bindparam("st_dependencies", type_=TEXTS),
            sa.bindparam("st_job_ids", type_=UUIDS),
        )
        .table_valued("step_id", "job_data", "dependencies", "job_id")
        .render_derived(name="v")
    )
    source = sa.select(
        sa.bindparam("st_workflow_id", type_=pg.UUID(as_uuid=True)),
        v.c.step_id,
        sa.cast(v.c.job_data, pg.JSONB),
        sa.cast(v.c.dependencies, pg.JSONB),
        v.c.job_id,
    ).order_by(v.c.step_id)
    stmt = pg.insert(t).from_select(
        ["workflow_id", "step_id", "job_data", "dependencies", "job_id"], source
    )
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[t.c.workflow_id, t.c.step_id],
        set_={
            "job_data": new.job_data,
            "dependencies": new.dependencies,
            "job_id": sa.func.coalesce(t.c.job_id, new.job_id),
            "updated_at": sa.func.now(),
        },
    )


def build_lock_active(wm: WorkflowModels, ids: list[uuid.UUID]) -> sa.Select[Any]:
    """Lock the still-active workflows among ``ids``, skipping any another worker holds."""
    t = wm.Workflow.__table__
    return (
        sa.select(t.c.id, t.c.name, t.c.state)
        .where(
            t.c.id == sa.func.any(sa.bindparam("ids", ids, UUIDS)),
            state_in(t.c.state, ACTIVE_WORKFLOW_STATES),
        )
        .order_by(t.c.id)
        .with_for_update(skip_locked=True)
    )


def build_active_among(wm: WorkflowModels, ids: list[uuid.UUID]) -> sa.Select[Any]:
    """Which of ``ids`` are still active (without locking)."""
    t = wm.Workflow.__table__
    return sa.select(t.c.id).where(
        t.c.id == sa.func.any(sa.bindparam("ids", ids, UUIDS)),
        state_in(t.c.state, ACTIVE_WORKFLOW_STATES),
    )


def build_active_page(wm: WorkflowModels, after: uuid.UUID | None, limit: int) -> sa.Select[Any]:
    """The next ``limit`` active workflow ids after ``after``, for the leader's sweep."""
    t = wm.Workflow.__table__
    return (
        sa.select(t.c.id)
        .where(state_in(t.c.state, ACTIVE_WORKFLOW_STATES), t.c.id > (after or NIL))
        .order_by(t.c.id)
        .limit(limit)
    )


def build_steps(wm: WorkflowModels, ids: list[uuid.UUID]) -> sa.Select[Any]:
    """The steps of ``ids`` with their job's live state (NULL if it has no job row)."""
    s = wm.WorkflowStep.__table__
    j = wm.core.Job.__table__
    return (
        sa.select(
            s.c.id,
            s.c.workflow_id,
            s.c.step_id,
            s.c.job_data,
            s.c.dependencies,
            s.c.job_id,
            s.c.state,
            j.c.state.label("job_state"),
        )
        .select_from(s.outerjoin(j, j.c.id == s.c.job_id))
        .where(s.c.workflow_id == sa.func.any(sa.bindparam("ids", ids, UUIDS)))
        .order_by(s.c.workflow_id, s.c.id)
    )


def build_update_steps(wm: WorkflowModels) -> sa.Update:
    """Record pushed jobs and observed states for many steps at once."""
    t = wm.WorkflowStep.__table__
    v = (
        sa.func.unnest(
            sa.bindparam("up_ids", type_=BIGINTS),
            sa.bindparam("up_job_ids", type_=UUIDS),
            sa.bindparam("up_states", type_=TEXTS),
        )
        .table_valued("id", "job_id", "state")
        .render_derived(name="v")
    )
    return (
        sa.update(t)
        .where(t.c.id == v.c.id)
        .values(job_id=v.c.job_id, state=v.c.state, updated_at=sa.func.now())
    )


def build_update_workflows(wm: WorkflowModels) -> sa.Update:
    t = wm.Workflow.__table__
    v = (
        sa.func.unnest(sa.bindparam("wf_ids", type_=UUIDS), sa.bindparam("wf_states", type_=TEXTS))
        .table_valued("id", "state")
        .render_derived(name="v")
    )
    return sa.update(t).where(t.c.id == v.c.id).values(state=v.c.state, updated_at=sa.func.now())


def build_get_workflows(
    wm: WorkflowModels,
    *,
    ids: list[uuid.UUID] | None = None,
    states: list[str] | None = None,
    limit: int = 100,
) -> sa.Select[Any]:
    """Workflow rows, newest first."""
    t = wm.Workflow.__table__
    stmt = sa.select(t)
    if ids is not None:
        stmt = stmt.where(t.c.id == sa.func.any(sa.bindparam("ids", ids, UUIDS)))
    if states is not None:
        stmt = stmt.where(t.c.state == sa.func.any(sa.bindparam("states", states, TEXTS)))
    return stmt.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit)


def build_prune(wm: WorkflowModels, condition: Any) -> sa.Delete:
    """Delete finished workflows matching ``condition`` (a :mod:`chancy.rule` rule, or None
    for all of them); their steps go with them (ON DELETE CASCADE)."""
    t = wm.Workflow.__table__
    stmt = sa.delete(t).where(sa.not_(state_in(t.c.state, ACTIVE_WORKFLOW_STATES)))
    if condition is not None:
        stmt = stmt.where(condition.to_sql(t))
    return stmt
