"""Recovery: put back running jobs whose worker is gone."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONPATH

from chancy.db.models import Models
from chancy.db.statements._sql import seconds

LOST_MESSAGE = (
    "WorkerLost: worker {worker} stopped heartbeating while running this job, so it was "
    "recovered by the Recovery plugin."
)
GIVEN_UP_MESSAGE = (
    "WorkerLost: the workers running this job were lost {count} times ({workers}), more "
    "than Recovery(max_rescues={bound}) allows, so it failed instead of running again. "
    "If the job itself kills its worker (memory, a crash), fix that; otherwise raise "
    "max_rescues."
)


def _text(template: str, **values: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """``template`` with each ``{name}`` replaced by a SQL expression's text."""
    out: sa.ColumnElement[str] = sa.literal(template, sa.Text)
    for name, value in values.items():
        out = sa.func.replace(out, "{" + name + "}", sa.cast(value, sa.Text))
    return out


def build_recover(models: Models, *, limit: int, grace: float, max_rescues: int) -> sa.Update:
    """Recover up to ``limit`` running jobs of workers with no live registry row.

    A worker is live while its ``workers`` row exists and has not expired. Jobs claimed
    less than ``grace`` seconds ago are left alone: a starting worker may claim before
    its first heartbeat commits. The interrupted run is given back (attempts count when
    a run ends, and this one never ended), so even a ``max_attempts=1`` job runs again.
    Each rescue leaves an error entry naming the lost worker (``lost_worker``); a job
    already rescued ``max_rescues`` times fails instead, its entry naming every lost
    worker, so a job that kills each worker it runs on cannot loop forever.
    Clearing ``claim_id`` makes the completer ignore the lost run's late result. Rows
    are locked with SKIP LOCKED so a job a completer is writing right now is skipped,
    and LIMIT bounds each transaction. RETURNING gives the old claim (from the CTE) so
    its worker, if it is still alive somehow, can cancel exactly that execution.
    """
    jobs = models.Job.__table__
    workers = models.Worker.__table__
    live = sa.exists().where(
        workers.c.worker_id == jobs.c.taken_by, workers.c.expires_at > sa.func.now()
    )
    lost = (
        sa.select(jobs.c.id, jobs.c.claim_id)
        .where(
            jobs.c.state == "running",
            ~live,
            sa.or_(
                jobs.c.started_at.is_(None),
                jobs.c.started_at < sa.func.now() - seconds(grace),
            ),
        )
        .order_by(jobs.c.id)
        .limit(limit)
        .with_for_update(of=jobs, skip_locked=True)
        .cte("lost")
    )
    worker = sa.func.coalesce(jobs.c.taken_by, "(unknown)")
    # Lax jsonpath: entries without the key (ordinary failures) contribute nothing.
    earlier = sa.func.jsonb_path_query_array(jobs.c.errors, sa.cast("$[*].lost_worker", JSONPATH))
    every = earlier.op("||")(sa.func.jsonb_build_array(worker))
    listed = sa.func.jsonb_array_elements_text(every).table_valued("value").alias("lost_w")
    names = sa.select(sa.func.string_agg(listed.c.value, ", ")).scalar_subquery()
    bound = sa.literal(int(max_rescues), sa.Integer)
    given_up = sa.func.jsonb_array_length(earlier) >= bound
    message = sa.case(
        (
            given_up,
            _text(
                GIVEN_UP_MESSAGE,
                count=sa.func.jsonb_array_length(every),
                workers=names,
                bound=bound,
            ),
        ),
        else_=_text(LOST_MESSAGE, worker=worker),
    )
    entry = sa.func.jsonb_build_object(
        "attempt", jobs.c.attempts, "traceback", message, "lost_worker", worker
    )
    return (
        sa.update(jobs)
        .where(jobs.c.id == lost.c.id)
        .values(
            state=sa.case((given_up, "failed"), else_="retrying"),
            # Only a run that ends counts: the one that ends the job here.
            attempts=sa.case((given_up, jobs.c.attempts + 1), else_=jobs.c.attempts),
            completed_at=sa.case((given_up, sa.func.now()), else_=None),
            started_at=None,
            taken_by=None,
            claim_id=None,
            errors=jobs.c.errors.op("||")(sa.func.jsonb_build_array(entry)),
        )
        .returning(jobs.c.id, jobs.c.queue, jobs.c.state, lost.c.claim_id.label("old_claim"))
    )
