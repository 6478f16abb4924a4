"""Job statements: claim, complete, read, cancel, retry and purge."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from chancy.db.claimed import CLAIM_RETURNS
from chancy.db.models import ACTIVE_STATES, FINISHED_STATES, READY_STATES, Models
from chancy.db.statements._sql import INTS, TEXTS, TIMES, UUIDS, state_in
from chancy.job import QueuedJob
from chancy.utils import json_dumps


def row_to_job(row: Any) -> QueuedJob:
    return QueuedJob.unpack(row._mapping)


def build_claim_plan_setting(*, local: bool = False) -> sa.TextClause:
    """The planner setting that keeps :func:`build_fetch` on the ``fetch`` index.

    Without statistics (a table never analysed, autovacuum off or behind) the planner
    estimates a handful of ready rows and plans the claim as a bitmap scan plus a sort of
    the whole backlog: 45-105 ms instead of ~1 ms. The ``fetch`` index already yields rows
    in claim order, so forbidding the sort leaves only the ordered index walk, whatever
    the statistics say. Set on the worker's claim connections (``local`` inside a
    transaction).
    """
    return sa.text(f"SET {'LOCAL ' if local else ''}enable_sort = off")


def fetch_params(queue: str, limit: int, worker_id: str) -> dict[str, Any]:
    """The bind parameters of :func:`build_fetch`: claim up to ``limit`` of ``queue``."""
    return {"fetch_queue": queue, "fetch_limit": limit, "fetch_worker": worker_id}


# Cached per prefix: building it costs about 1 ms of CPU, on every call of a hot path.
@functools.cache
def build_fetch(models: Models) -> sa.Update:
    """Claim up to ``:fetch_limit`` jobs of ``:fetch_queue`` for ``:fetch_worker`` at once.

    The CTE locks candidates with SKIP LOCKED so concurrent workers claim disjoint rows
    and never wait on each other; it also fences LIMIT so a nested-loop plan cannot claim
    more. Highest priority first, then oldest (ids are time ordered). Each claim gets a
    fresh ``claim_id``. Attempts are counted when a run ends (as upstream), not here; a
    job whose runs keep killing their worker is bounded by Recovery's ``max_rescues``.
    """
    t = models.Job.__table__
    locked = (
        sa.select(t.c.id)
        .where(
            t.c.queue == sa.bindparam("fetch_queue"),
            state_in(t.c.state, READY_STATES),
            t.c.attempts < t.c.max_attempts,
            t.c.scheduled_at <= sa.func.now(),
        )
        .order_by(t.c.priority.desc(), t.c.id)
        .limit(sa.bindparam("fetch_limit"))
        .with_for_update(skip_locked=True)
        .cte("locked")
    )
    # The claim's commit does not wait for its WAL flush (a transaction-local setting,
    # read at commit). Losing a claim to a server crash is safe: the job is pending
    # again, and any later synchronous commit (a completion) flushes the claim first.
    # An uncorrelated subquery: Postgres runs it once, as a one-time filter.
    relaxed = sa.select(sa.func.set_config("synchronous_commit", "off", True)).scalar_subquery()
    return (
        sa.update(t)
        .where(t.c.id == locked.c.id, relaxed.is_not(None))
        .values(
            state="running",
            started_at=sa.func.now(),
            taken_by=sa.bindparam("fetch_worker"),
            claim_id=sa.func.gen_random_uuid(),
        )
        # Only what a run needs; chancy.db.claimed fills in what the claimer knows.
        .returning(*(t.c[name] for name in CLAIM_RETURNS))
    )


#: ``build_complete``'s array parameters, in the order of its ``unnest`` columns.
_DONE_COLUMNS = (
    ("id", "done_ids", UUIDS),
    ("claim", "done_claims", UUIDS),
    ("state", "done_states", TEXTS),
    ("attempts", "done_attempts", INTS),
    ("errors", "done_errors", TEXTS),
    ("meta", "done_metas", TEXTS),
    ("scheduled", "done_scheduled", TIMES),
    ("max_attempts", "done_max_attempts", INTS),
    ("result", "done_results", TEXTS),
)


# Cached per prefix: building it costs about 1 ms of CPU, on every call of a hot path.
@functools.cache
def build_complete(models: Models) -> sa.Update:
    """Apply a batch of outcomes in one statement; returns the ids that were applied.

    The batch travels as one array per column (:func:`complete_params`), unnested
    together: the worker sends them in binary format on its driver connection, so
    encoding a batch is a few list comprehensions rather than a JSON document per
    outcome. JSON columns (``errors``, ``meta``, ``result``) travel as text. An outcome
    applies only while the row is still ``running`` under the same claim, so a result
    arriving after a cancel, a recovery or a re-claim changes nothing. ``result`` is
    JSON text (already checked by the worker) and becomes the job's stored result;
    NULL clears it.
    """
    t = models.Job.__table__
    v = (
        sa.func.unnest(*(sa.bindparam(param, type_=array) for _, param, array in _DONE_COLUMNS))
        .table_valued(*(sa.column(col) for col, *_ in _DONE_COLUMNS))
        .render_derived(name="v")
    )
    finished = state_in(v.c.state, FINISHED_STATES)
    return (
        sa.update(t)
        .where(
            t.c.id == v.c.id,
            t.c.state == sa.literal_column("'running'"),
            t.c.claim_id == v.c.claim,
        )
        .values(
            state=v.c.state,
            attempts=v.c.attempts,
            completed_at=sa.case((finished, sa.func.now()), else_=None),
            started_at=sa.case(
                (v.c.state == sa.literal_column("'pending'"), None), else_=t.c.started_at
            ),
            # ``v.errors`` holds only the entries added by this run.
            errors=t.c.errors.op("||")(sa.cast(v.c.errors, pg.JSONB)),
            meta=sa.func.coalesce(sa.cast(v.c.meta, pg.JSONB), t.c.meta),
            scheduled_at=sa.func.coalesce(v.c.scheduled, t.c.scheduled_at),
            max_attempts=sa.func.coalesce(v.c.max_attempts, t.c.max_attempts),
            result=sa.cast(v.c.result, pg.JSONB),
            # An update that leaves the job running (Worker.queue_update) keeps its claim.
            claim_id=sa.case(
                (v.c.state == sa.literal_column("'running'"), t.c.claim_id), else_=None
            ),
        )
        .returning(t.c.id)
    )


def complete_params(
    outcomes: Sequence[tuple[QueuedJob, list[Any], str | None]],
) -> dict[str, list[Any]]:
    """:func:`build_complete`'s parameters for ``(job, its new error entries, result
    JSON text or None)`` triples. Empty errors and meta (most outcomes) are constants,
    not encoded."""
    jobs = [job for job, _, _ in outcomes]
    return {
        "done_ids": [job.id for job in jobs],
        "done_claims": [job.claim_id for job in jobs],
        "done_states": [job.state.value for job in jobs],
        "done_attempts": [job.attempts for job in jobs],
        "done_errors": [json_dumps(new) if new else "[]" for _, new, _ in outcomes],
        "done_metas": [json_dumps(job.meta) if job.meta else "{}" for job in jobs],
        "done_scheduled": [job.scheduled_at for job in jobs],
        "done_max_attempts": [job.max_attempts for job in jobs],
        "done_results": [result for _, _, result in outcomes],
    }


def build_get_job(models: Models, ident: uuid.UUID) -> sa.Select[Any]:
    t = models.Job.__table__
    return sa.select(t).where(t.c.id == ident)


def build_get_jobs(models: Models, idents: list[uuid.UUID]) -> sa.Select[Any]:
    t = models.Job.__table__
    return sa.select(t).where(t.c.id == sa.func.any(sa.bindparam("ids", idents, UUIDS)))


def build_list_jobs(
    models: Models,
    *,
    func: str | None = None,
    queue: str | None = None,
    states: list[str] | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> sa.Select[Any]:
    """Jobs in push order (ids are time ordered), optionally of one function, queue or states.

    ``newest_first`` with ``limit`` is what an operator listing wants: the latest jobs.
    """
    t = models.Job.__table__
    stmt = sa.select(t).order_by(t.c.id.desc() if newest_first else t.c.id)
    if func is not None:
        stmt = stmt.where(t.c.func == func)
    if queue is not None:
        stmt = stmt.where(t.c.queue == queue)
    if states:
        # Checked against the enum: ``state_in`` writes the values as SQL literals.
        stmt = stmt.where(state_in(t.c.state, [QueuedJob.State(s).value for s in states]))
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


def build_cancel(models: Models, ident: uuid.UUID) -> sa.Update:
    """Fail a job that has not finished; the notification interrupts it if it runs."""
    t = models.Job.__table__
    entry = sa.func.jsonb_build_object(
        "attempt",
        t.c.attempts,
        "traceback",
        "Cancelled: the job was cancelled by Chancy.cancel_job() and will not be retried.",
    )
    return (
        sa.update(t)
        .where(t.c.id == ident, state_in(t.c.state, ACTIVE_STATES))
        .values(
            state="failed",
            completed_at=sa.func.now(),
            claim_id=None,
            errors=t.c.errors.op("||")(sa.func.jsonb_build_array(entry)),
        )
        .returning(t.c.id, t.c.queue)
    )


def build_retry(models: Models, idents: list[uuid.UUID]) -> sa.Update:
    """Send finished jobs back to the queue with a fresh attempt budget (errors are kept;
    the previous run's result is cleared, the new run stores its own)."""
    t = models.Job.__table__
    return (
        sa.update(t)
        .where(
            t.c.id == sa.func.any(sa.bindparam("ids", idents, UUIDS)),
            state_in(t.c.state, FINISHED_STATES),
        )
        .values(
            state="retrying",
            attempts=0,
            scheduled_at=sa.func.now(),
            started_at=None,
            completed_at=None,
            taken_by=None,
            claim_id=None,
            result=None,
        )
        .returning(t.c.id, t.c.queue)
    )


def build_purge(models: Models, idents: list[uuid.UUID]) -> sa.Delete:
    """Delete jobs that are not running (a running job's row is still being worked on)."""
    t = models.Job.__table__
    return (
        sa.delete(t)
        .where(t.c.id == sa.func.any(sa.bindparam("ids", idents, UUIDS)), t.c.state != "running")
        .returning(t.c.id)
    )


def build_delete_queue_jobs(models: Models, queue: str) -> sa.Delete:
    t = models.Job.__table__
    return sa.delete(t).where(t.c.queue == queue)
