"""The Cron plugin: push jobs on recurring schedules, from the leader when there is one."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypedDict
from zoneinfo import ZoneInfo

from chancy.errors import ConfigurationError
from chancy.job import IsAJob, Job, Reference, as_job
from chancy.plugin import Plugin
from chancy.plugins.cron import statements as cron_sql
from chancy.plugins.cron.models import build_cron_models
from chancy.plugins.cron.timing import next_fire, to_zone, validate_expression

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["Cron", "CronSchedule"]

#: The identifier shared by the leadership plugins; without one, every worker polls.
LEADERSHIP = "chancy.leadership"


class CronSchedule(TypedDict):
    """One schedule, as returned by :meth:`Cron.get_schedules`."""

    unique_key: str
    job: Job
    cron: str
    last_run: dt.datetime | None
    next_run: dt.datetime
    #: The IANA name of the zone the expression is read in.
    timezone: str


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass
class _Due:
    key: str
    job: Job
    next_run: dt.datetime


class Cron(Plugin):
    """Push jobs on cron schedules (``pip install chancy[cron]``).

    ::

        await Cron.schedule(chancy, "0 9 * * 1-5", report.job.with_unique_key("report"),
                            timezone=ZoneInfo("Europe/Paris"))

    Every ``poll_interval`` seconds the **leader** pushes the jobs whose next run has
    come, through the normal push path, and computes each schedule's next run in its
    time zone. Without a leadership plugin (as upstream allows) every worker polls:
    due rows are claimed with SKIP LOCKED and each job's unique key is its schedule's
    key, so a run is still pushed once; a warning says so when the worker starts. A
    run is skipped while the previous one is still pending, running or retrying. Runs
    missed while nobody polled are not back-filled: one run is pushed, then the
    schedule resumes from the current time.

    ``now`` replaces the clock (a callable returning an aware datetime), for tests.
    The leader emits ``cron.pushed`` on its hub with ``{"jobs": {key: Reference}}``.
    """

    migrations_branch = "cron"

    def __init__(
        self,
        *,
        poll_interval: float = 60,
        batch_size: int = 100,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__()
        if poll_interval <= 0:
            raise ConfigurationError(f"poll_interval must be positive, got {poll_interval}.")
        if batch_size < 1:
            raise ConfigurationError(f"batch_size must be at least 1, got {batch_size}.")
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.now = now or _utcnow

    @staticmethod
    def get_identifier() -> str:
        return "chancy.cron"

    def get_tables(self) -> list[str]:
        return ["cron"]

    def api_plugin(self) -> str | None:
        return "chancy.plugins.cron.api.CronApiPlugin"

    # -- managing schedules ------------------------------------------------------------
    @classmethod
    async def schedule(
        cls,
        chancy: Chancy,
        cron: str,
        *jobs: Job | IsAJob[Any],
        timezone: ZoneInfo | dt.tzinfo | str | None = None,
    ) -> None:
        """Run each job whenever ``cron`` matches, read in ``timezone`` (default UTC).

        Each job needs a ``unique_key``, which names its schedule: scheduling the same
        key again replaces that schedule. ``cron`` has five fields, or six with seconds
        last (``* * * * * */10`` is every ten seconds).
        """
        validate_expression(cron)
        zone = to_zone(timezone)
        checked = [as_job(j) for j in jobs]
        for job in checked:
            job.validate()
            if job.unique_key is None:
                raise ConfigurationError(
                    f"Cron.schedule() requires that each job has a unique_key set; "
                    f"{job.func!r} has none. Use job.with_unique_key('...')."
                )
        if not checked:
            return
        first = next_fire(cron, zone, _utcnow())
        rows = [
            {
                "unique_key": job.unique_key,
                "job": job.pack(),
                "cron": cron,
                "next_run": first,
                "timezone": zone.key,
            }
            for job in checked
        ]
        # One row per key (the last job wins): Postgres refuses to upsert a row twice
        # in one statement.
        rows = list({row["unique_key"]: row for row in rows}.values())
        cm = build_cron_models(chancy.models)
        async with chancy.engine.begin() as conn:
            await conn.execute(cron_sql.build_upsert(cm), rows)

    @classmethod
    async def unschedule(cls, chancy: Chancy, *unique_keys: str) -> None:
        """Remove the schedules with these keys; jobs already pushed are untouched."""
        if not unique_keys:
            return
        cm = build_cron_models(chancy.models)
        async with chancy.engine.begin() as conn:
            await conn.execute(cron_sql.build_delete(cm, unique_keys))

    @classmethod
    async def get_schedules(
        cls, chancy: Chancy, *, unique_keys: Sequence[str] | None = None
    ) -> dict[str, CronSchedule]:
        """Schedules by key: all of them, or those in ``unique_keys``.

        A row whose job cannot be decoded is left out and logged, rather than making
        the whole listing fail.
        """
        cm = build_cron_models(chancy.models)
        async with chancy.engine.connect() as conn:
            rows = (await conn.execute(cron_sql.build_select(cm, unique_keys))).all()
        schedules: dict[str, CronSchedule] = {}
        for row in rows:
            try:
                job = Job.unpack(row.job)
            except Exception as exc:
                chancy.log.error("Cron schedule %r has an unreadable job: %r.", row.unique_key, exc)
                continue
            schedules[row.unique_key] = CronSchedule(
                unique_key=row.unique_key,
                job=job,
                cron=row.cron,
                last_run=row.last_run,
                next_run=row.next_run,
                timezone=row.timezone,
            )
        return schedules

    # -- the leader's loop -------------------------------------------------------------
    async def run(self, worker: Worker, chancy: Chancy) -> None:
        led = LEADERSHIP in chancy.plugins
        if not led:
            worker.log.warning(
                "Cron runs without a leadership plugin, so every worker polls the "
                "schedules; the schedules' unique keys keep each run to one job. Add "
                "Leadership() to the plugins to poll from the leader only."
            )
        await self.every(
            worker, self.poll_interval, lambda: self.step(worker, chancy), leader_only=led
        )

    async def step(self, worker: Worker, chancy: Chancy) -> dict[str, Reference]:
        """One poll: push what is due and tell the worker's hub."""
        pushed = await self.push_due(chancy)
        if pushed:
            await worker.hub.emit("cron.pushed", {"jobs": pushed})
        return pushed

    async def push_due(self, chancy: Chancy) -> dict[str, Reference]:
        """Push every schedule due at ``self.now()``; returns the references by key.

        Each page of due rows is one transaction: rows are locked (SKIP LOCKED), their
        jobs pushed on the same connection, and their next runs written, so a crash
        leaves a schedule either fully run or untouched. A key whose previous job is
        still active gets that job's reference back and no new job.
        """
        now = self.now()
        if now.tzinfo is None:
            raise ConfigurationError(f"Cron's clock must return aware datetimes, got {now!r}.")
        cm = build_cron_models(chancy.models)
        pushed: dict[str, Reference] = {}
        after_key: str | None = None
        while True:
            async with chancy.engine.begin() as conn:
                rows = (
                    await conn.execute(
                        cron_sql.build_claim_due(
                            cm, now, after_key=after_key, limit=self.batch_size
                        )
                    )
                ).all()
                if not rows:
                    return pushed
                after_key = rows[-1].unique_key
                due = [d for d in (self._prepare(chancy, row, now) for row in rows) if d]
                if due:
                    refs = await chancy.push_many_ex(conn, [d.job for d in due])
                    await conn.execute(
                        cron_sql.build_mark_run(
                            cm, now, [d.key for d in due], [d.next_run for d in due]
                        )
                    )
                    pushed.update({d.key: ref for d, ref in zip(due, refs, strict=True)})
            if len(rows) < self.batch_size:
                return pushed

    def _prepare(self, chancy: Chancy, row: Any, now: dt.datetime) -> _Due | None:
        """The job and next run of a due row, or None (logged) if the row is unusable.

        A bad row (edited by hand, or written by another version) stays due and is
        reported on every poll until it is fixed or unscheduled; it never blocks others.
        """
        try:
            job = dataclasses.replace(
                Job.unpack(row.job), unique_key=row.unique_key, scheduled_at=row.next_run
            )
            job.validate()
            upcoming = next_fire(row.cron, row.timezone, now)
        except Exception as exc:
            chancy.log.error(
                "Cron schedule %r is invalid and was skipped: %s. Reschedule it with "
                "Cron.schedule() or remove it with Cron.unschedule().",
                row.unique_key,
                exc,
            )
            return None
        return _Due(key=row.unique_key, job=job, next_run=upcoming)
