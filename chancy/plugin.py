"""The plugin contract. Plugins add loops (``run``) and hooks to workers, and may own tables.

A plugin with tables names its Alembic branch in ``migrations_branch``; its revisions
live in ``chancy/plugins/<name>/migrations`` (or any folder on the migrator's
version locations) and depend on a core revision. ``Chancy.migrate()`` upgrades the
branch of every enabled plugin.

Hooks raise :class:`NotImplementedError` in this base class, meaning "not implemented":
the worker then stops calling that hook on that plugin, so unused hooks cost nothing.
"""

from __future__ import annotations

import abc
import asyncio
import enum
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from chancy.backoff import Backoff
from chancy.job import QueuedJob
from chancy.loops import attempt, wait_for_event

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["Plugin", "PluginScope"]


class PluginScope(enum.Enum):
    WORKER = "worker"


class Plugin(abc.ABC):
    """Base class of every plugin."""

    #: The Alembic branch label of the plugin's tables, or None without tables.
    migrations_branch: ClassVar[str | None] = None

    def __init__(self) -> None:
        self.wakeup_signal = asyncio.Event()

    @classmethod
    def get_scope(cls) -> PluginScope:
        return PluginScope.WORKER

    @staticmethod
    @abc.abstractmethod
    def get_identifier() -> str:
        """A unique name such as ``chancy.pruner``; plugins sharing one replace each other."""

    @staticmethod
    def get_dependencies() -> list[str]:
        """Identifiers of plugins this one needs; checked when the worker starts."""
        return []

    def get_tables(self) -> list[str]:
        """Unprefixed names of the plugin's tables."""
        return []

    def api_plugin(self) -> str | None:
        """Import path of an :class:`~chancy.plugins.api.ApiPlugin` adding HTTP routes.

        A path rather than a class, so a plugin never imports the web stack (Starlette)
        unless the Api plugin is enabled and asks for it.
        """
        return None

    async def run(self, worker: Worker, chancy: Chancy) -> None:
        """The plugin's long-running loop, cancelled when the worker stops."""
        raise NotImplementedError

    async def sleep(self, seconds: float) -> bool:
        """Sleep ``seconds`` or until :meth:`wake_up`; always returns True."""
        await wait_for_event(self.wakeup_signal, seconds)
        self.wakeup_signal.clear()
        return True

    def wake_up(self) -> None:
        self.wakeup_signal.set()

    @staticmethod
    async def wait_for_leader(worker: Worker) -> None:
        await worker.is_leader.wait()

    async def every(
        self,
        worker: Worker,
        interval: float,
        step: Callable[[], Awaitable[Any]],
        *,
        leader_only: bool = False,
    ) -> None:
        """Run ``step`` every ``interval`` seconds (only while leading, if asked).

        Errors are logged and retried with backoff, so a database outage never ends the
        loop.
        """
        backoff = Backoff(initial=1, maximum=60)
        while True:
            await self.sleep(interval)
            if leader_only:
                await self.wait_for_leader(worker)
            await attempt(
                step,
                backoff,
                on_error=lambda exc: worker.log.exception("Plugin %r failed; retrying.", self),
            )

    async def migrate(self, chancy: Chancy, *, remove: bool = False) -> None:
        """Upgrade this plugin's tables to their head, or with ``remove`` drop them."""
        if self.migrations_branch:
            await chancy.migrate_plugin(self.migrations_branch, remove=remove)

    async def cleanup(self, chancy: Chancy) -> int | None:
        """Called by the Pruner after each prune; returns rows removed, or None."""
        return None

    async def on_job_starting(self, *, job: QueuedJob, worker: Worker) -> QueuedJob:
        raise NotImplementedError

    async def on_job_completed(
        self,
        *,
        worker: Worker,
        job: QueuedJob,
        exc: BaseException | None = None,
        result: Any = None,
    ) -> QueuedJob:
        raise NotImplementedError

    async def on_job_updated(self, *, worker: Worker, job: QueuedJob) -> None:
        """Called after a job's new state has been committed."""
        raise NotImplementedError

    async def on_worker_started(self, *, worker: Worker) -> None:
        raise NotImplementedError

    async def on_worker_stopped(self, *, worker: Worker) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}()>"
