"""Recovery: running jobs whose worker died go back to their queue."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chancy import events as ev
from chancy.plugin import Plugin
from chancy.plugins.recovery import statements as recovery_sql

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["Recovery"]


class Recovery(Plugin):
    """Put back the running jobs of workers that stopped heartbeating.

    A worker is alive while its row in the workers table has not expired (it is
    renewed every ``heartbeat_poll_interval`` and expires ``heartbeat_timeout`` later).
    The leader checks every ``poll_interval`` seconds; each job it finds becomes
    ``retrying`` again with the interrupted attempt given back (attempts count when a
    run ends), so even a ``max_attempts=1`` job runs again. Each rescue adds an error
    entry naming the lost worker; a job already rescued ``max_rescues`` times ends
    ``failed`` instead, with an entry naming every lost worker, so a job that crashes
    each worker it runs on cannot loop forever (upstream has no such bound). The lost
    run's claim is revoked: if that worker is somehow still running the job, its result
    is discarded. This is what makes delivery "at least once": jobs should be
    idempotent.

    ``grace`` skips jobs claimed in the last few seconds, since a worker that just
    started may claim before its first heartbeat is written. ``batch_size`` bounds each
    transaction.

    Events: ``recovery.recovered {elapsed, rows_recovered}`` after every pass, and
    ``job.recovered {j, c}`` (job id, revoked claim id) per job.
    """

    def __init__(
        self,
        *,
        poll_interval: float = 60,
        grace: float = 10,
        batch_size: int = 1000,
        max_rescues: int = 3,
    ) -> None:
        super().__init__()
        if isinstance(max_rescues, bool) or not isinstance(max_rescues, int) or max_rescues < 0:
            raise ValueError(
                f"max_rescues must be a whole number of rescues (0 or more), got {max_rescues!r}."
            )
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}.")
        if grace < 0:
            raise ValueError(f"grace must not be negative, got {grace}.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.poll_interval = poll_interval
        self.grace = grace
        self.batch_size = batch_size
        #: How many times one job may be put back after losing its worker.
        self.max_rescues = max_rescues

    @staticmethod
    def get_identifier() -> str:
        return "chancy.recovery"

    @staticmethod
    def get_dependencies() -> list[str]:
        return ["chancy.leadership"]

    async def run(self, worker: Worker, chancy: Chancy) -> None:
        await self.every(
            worker, self.poll_interval, lambda: self.recover(worker, chancy), leader_only=True
        )

    async def recover(self, worker: Worker, chancy: Chancy) -> int:
        """Recover every abandoned job now, a batch per transaction; returns how many."""
        started = time.monotonic()
        total = failed = 0
        while True:
            async with chancy.engine.begin() as conn:
                rows = (
                    await conn.execute(
                        recovery_sql.build_recover(
                            chancy.models,
                            limit=self.batch_size,
                            grace=self.grace,
                            max_rescues=self.max_rescues,
                        )
                    )
                ).all()
                total += len(rows)
                failed += sum(row.state == "failed" for row in rows)
                last = len(rows) < self.batch_size
                events = [
                    (ev.JOB_RECOVERED, ev.recovered_payload(str(row.id), str(row.old_claim)))
                    for row in rows
                ]
                # Retrying jobs are ready now: wake the workers serving their queues.
                queues = sorted({row.queue for row in rows if row.state == "retrying"})
                events += [(ev.QUEUE_PUSHED, ev.queue_payload(q)) for q in queues]
                if last:
                    elapsed = time.monotonic() - started
                    body = {"elapsed": elapsed, "rows_recovered": total}
                    events.append(("recovery.recovered", body))
                await chancy.notify_many(conn, events)
            if last:
                break
        if total:
            worker.log.warning("Recovered %d job(s) abandoned by lost workers.", total)
        if failed:
            worker.log.error(
                "%d of them had lost their worker more than max_rescues=%d times and "
                "failed instead of running again.",
                failed,
                self.max_rescues,
            )
        return total
