"""The worker's named background loops, and how a plugin's loop is kept running."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from chancy.backoff import Backoff
from chancy.loops import FAILED, attempt

__all__ = ["Loops", "keep_running"]


class Loops:
    """Named tasks (``chancy:<name>``). A loop that ends with an error calls
    ``on_failure(name, exc)``: loops retry by themselves, so an error escaping one means
    it gave up."""

    def __init__(self, on_failure: Callable[[str, BaseException], None]) -> None:
        self.on_failure = on_failure
        self.tasks: dict[str, asyncio.Task[Any]] = {}

    def spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"chancy:{name}")
        self.tasks[name] = task
        task.add_done_callback(self._ended)
        return task

    def _ended(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.on_failure(task.get_name(), task.exception())  # type: ignore[arg-type]

    def pop(self, name: str) -> asyncio.Task[Any] | None:
        """Take a loop out of the set without cancelling it (the caller ends it)."""
        return self.tasks.pop(name, None)

    async def cancel(self, *names: str, prefix: str | None = None) -> None:
        """Cancel the named loops (and those whose name starts with ``prefix``), waiting
        for each to end."""
        wanted = [*names, *(n for n in self.tasks if prefix is not None and n.startswith(prefix))]
        for name in wanted:
            task = self.tasks.pop(name, None)
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def cancel_all(self) -> None:
        await self.cancel(*list(self.tasks))


async def keep_running(
    run: Callable[[], Awaitable[None]], log: logging.Logger, what: object
) -> None:
    """Run a plugin's loop until it returns, restarting it with backoff when it crashes.

    A plugin without a loop raises NotImplementedError from ``run``: that ends it too.
    """
    backoff = Backoff(initial=1, maximum=60)

    async def run_once() -> None:
        with contextlib.suppress(NotImplementedError):
            await run()

    def crashed(exc: Exception) -> None:
        log.exception("Plugin %r crashed; restarting it.", what)

    while await attempt(run_once, backoff, on_error=crashed) is FAILED:
        pass  # restarted after the backoff
