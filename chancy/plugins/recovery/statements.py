"""Recovery: put back running jobs whose worker is gone."""

from __future__ import annotations

import sqlalchemy as sa

from chancy.db.models import Models
from chancy.db.statements._sql import seconds

LOST_MESSAGE = (
    "WorkerLost: worker {worker} stopped heartbeating while running this job, so it was "
    "recovered by the Recovery plugin."
)


def build_recover(models: Models, *, limit: int, grace: float) -> sa.Update:
    """Recover up to ``limit`` running jobs of workers with no live registry row.

    A worker is live while its ``workers`` row exists and has not expired. Jobs claimed
    less than ``grace`` seconds ago are left alone: a starting worker may claim before
    its first heartbeat commits. The attempt was counted at claim time, so a job that
    keeps killing its worker runs out of attempts and ends ``failed`` instead of looping.
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
    out_of_attempts = jobs.c.attempts >= jobs.c.max_attempts
    message = sa.func.replace(
        LOST_MESSAGE, "{worker}", sa.func.coalesce(jobs.c.taken_by, "(unknown)")
    )
    entry = sa.func.jsonb_build_object(
        "attempt", sa.func.greatest(jobs.c.attempts - 1, 0), "traceback", message
    )
    return (
        sa.update(jobs)
        .where(jobs.c.id == lost.c.id)
        .values(
            state=sa.case((out_of_attempts, "failed"), else_="retrying"),
            completed_at=sa.case((out_of_attempts, sa.func.now()), else_=None),
            started_at=None,
            taken_by=None,
            claim_id=None,
            errors=jobs.c.errors.op("||")(sa.func.jsonb_build_array(entry)),
        )
        .returning(jobs.c.id, jobs.c.queue, jobs.c.state, lost.c.claim_id.label("old_claim"))
    )
