"""Reprioritize: waiting jobs that match a rule slowly gain priority, so none starve."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chancy.job import INT4_MAX, INT4_MIN
from chancy.plugin import Plugin
from chancy.plugins.reprioritize import statements as reprioritize_sql
from chancy.rule import JobRules, SQLAble

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["Reprioritize"]


class Reprioritize(Plugin):
    """Every ``check_interval`` seconds, raise matching waiting jobs' priority.

    Jobs that are ``pending`` or ``retrying`` and match ``rule`` gain
    ``priority_increase``, never beyond ``maximum_priority`` (default: the largest
    priority the column holds). Typical use, aging long-waiting jobs up the queue::

        Reprioritize(Reprioritize.Rules.Age() > 600, priority_increase=1, maximum_priority=10)

    Each pass walks the matching jobs in id order, ``batch_size`` per transaction, up to
    the newest job that existed when the pass began, so every job is raised at most once
    per pass and a pass always ends. Leader only; sends ``reprioritize.raised
    {elapsed, rows_raised}`` after each pass.
    """

    Rules = JobRules

    def __init__(
        self,
        rule: SQLAble,
        *,
        check_interval: float = 300,
        priority_increase: int = 1,
        maximum_priority: int | None = None,
        batch_size: int = 1000,
    ) -> None:
        super().__init__()
        if not isinstance(rule, SQLAble):
            raise TypeError(
                f"rule must be a rule such as Reprioritize.Rules.Age() > 600, got {rule!r}."
            )
        if check_interval <= 0:
            raise ValueError(f"check_interval must be positive, got {check_interval}.")
        if priority_increase < 1:
            raise ValueError(f"priority_increase must be at least 1, got {priority_increase}.")
        maximum = INT4_MAX if maximum_priority is None else maximum_priority
        if not INT4_MIN <= maximum <= INT4_MAX:
            raise ValueError(f"maximum_priority must fit in 32 bits, got {maximum_priority}.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.rule = rule
        self.check_interval = check_interval
        self.priority_increase = priority_increase
        self.maximum_priority = maximum
        self.batch_size = batch_size

    @staticmethod
    def get_identifier() -> str:
        return "chancy.reprioritize"

    @staticmethod
    def get_dependencies() -> list[str]:
        return ["chancy.leadership"]

    async def run(self, worker: Worker, chancy: Chancy) -> None:
        await self.every(
            worker, self.check_interval, lambda: self.step(worker, chancy), leader_only=True
        )

    async def step(self, worker: Worker, chancy: Chancy) -> int:
        started = time.monotonic()
        raised = await self.reprioritize_jobs(chancy)
        elapsed = time.monotonic() - started
        if raised:
            worker.log.info("Raised the priority of %d job(s).", raised)
        async with chancy.engine.begin() as conn:
            await chancy.notify(
                conn, "reprioritize.raised", {"elapsed": elapsed, "rows_raised": raised}
            )
        return raised

    async def reprioritize_jobs(self, chancy: Chancy) -> int:
        """One pass now; returns how many jobs were raised."""
        models = chancy.models
        async with chancy.engine.connect() as conn:
            upper = (await conn.execute(reprioritize_sql.build_upper_bound(models))).scalar()
        if upper is None:
            return 0
        after = None
        total = 0
        while True:
            stmt = reprioritize_sql.build_raise_priority(
                models,
                self.rule,
                after=after,
                upper=upper,
                increase=self.priority_increase,
                maximum=self.maximum_priority,
                limit=self.batch_size,
            )
            async with chancy.engine.begin() as conn:
                ids = (await conn.execute(stmt)).scalars().all()
            total += len(ids)
            if len(ids) < self.batch_size:
                return total
            after = max(ids)
