"""Pruner: delete finished jobs once they match a rule (by default, a day old)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from chancy.plugin import Plugin
from chancy.plugins.pruner import statements as pruner_sql
from chancy.rule import JobRules, SQLAble

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["Pruner"]

#: One day, in seconds: the default age at which finished jobs are pruned.
DEFAULT_AGE = 60 * 60 * 24


class Pruner(Plugin):
    """Delete succeeded and failed jobs matching ``rule``, on the leader only.

    Only finished jobs are ever deleted, whatever the rule says: pending, running and
    retrying jobs are untouched. ``rule`` defaults to ``Pruner.Rules.Age() > 86400``
    (one day since the job was created)::

        Pruner((Pruner.Rules.Queue() == "reports") & (Pruner.Rules.Age() > 3600))

    Every ``poll_interval`` seconds it deletes up to ``maximum_to_prune`` jobs, in
    batches of at most ``batch_size`` per transaction so locks stay short. The state
    filter can use the ``(state, completed_at)`` index; the rule is then checked on the
    finished rows (``Age`` is measured from ``created_at``, as upstream). After
    pruning it calls ``cleanup(chancy)`` on every plugin so they can prune their own
    tables, and sends ``pruner.removed {elapsed, rows_removed}``.
    """

    Rules = JobRules

    def __init__(
        self,
        rule: SQLAble | None = None,
        *,
        maximum_to_prune: int = 10_000,
        poll_interval: float = 60,
        batch_size: int = 1000,
    ) -> None:
        super().__init__()
        if maximum_to_prune < 1:
            raise ValueError(f"maximum_to_prune must be at least 1, got {maximum_to_prune}.")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        if poll_interval <= 0:
            raise ValueError(f"poll_interval must be positive, got {poll_interval}.")
        self.rule: SQLAble = rule if rule is not None else JobRules.Age() > DEFAULT_AGE
        self.maximum_to_prune = maximum_to_prune
        self.poll_interval = poll_interval
        self.batch_size = batch_size

    @staticmethod
    def get_identifier() -> str:
        return "chancy.pruner"

    @staticmethod
    def get_dependencies() -> list[str]:
        return ["chancy.leadership"]

    async def run(self, worker: Worker, chancy: Chancy) -> None:
        await self.every(
            worker, self.poll_interval, lambda: self.step(worker, chancy), leader_only=True
        )

    async def step(self, worker: Worker, chancy: Chancy) -> int:
        """One pass: prune, let every plugin clean up, and announce the result."""
        started = time.monotonic()
        removed = await self.prune(chancy)
        elapsed = time.monotonic() - started
        if removed:
            worker.log.info("Pruned %d finished job(s) in %.2fs.", removed, elapsed)
        async with chancy.engine.begin() as conn:
            await chancy.notify(
                conn, "pruner.removed", {"elapsed": elapsed, "rows_removed": removed}
            )
        for plugin in chancy.plugins.values():
            try:
                cleaned = await plugin.cleanup(chancy)
            except Exception:
                worker.log.exception("Cleanup of plugin %r failed.", plugin)
                continue
            if cleaned:
                worker.log.info("Plugin %r cleaned up %d row(s).", plugin, cleaned)
        return removed

    async def prune(self, chancy: Chancy) -> int:
        """Delete matching finished jobs now (up to ``maximum_to_prune``); returns how many."""
        removed = 0
        while removed < self.maximum_to_prune:
            limit = min(self.batch_size, self.maximum_to_prune - removed)
            async with chancy.engine.begin() as conn:
                result = await conn.execute(
                    pruner_sql.build_prune(chancy.models, self.rule, limit=limit)
                )
            removed += result.rowcount
            if result.rowcount < limit:
                break
        return removed
