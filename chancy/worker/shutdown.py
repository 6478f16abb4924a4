"""The steps of a worker's stop that need no worker state: the signal handlers, bounded
drain, closing the completer's loop, and the final flush that must outlive a brief
database outage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import Any

from chancy.backoff import Backoff
from chancy.worker.completer import Completer


async def drain(tasks: list[asyncio.Task[Any]], timeout: float, force: asyncio.Event) -> bool:
    """Wait for ``tasks`` up to ``timeout`` seconds or until ``force`` is set; True if
    they all finished."""
    if not tasks:
        return True
    gathered = asyncio.ensure_future(asyncio.gather(*tasks, return_exceptions=True))
    forced = asyncio.ensure_future(force.wait())
    done, _ = await asyncio.wait({gathered, forced}, timeout=timeout, return_when="FIRST_COMPLETED")
    forced.cancel()
    return gathered in done


async def close_completer(completer: Completer, task: asyncio.Task[Any] | None) -> None:
    """Let the completer's loop finish its flush in progress, then end it."""
    completer.close()
    if task is not None and not task.done():
        done, _ = await asyncio.wait({task}, timeout=5)
        if not done:  # stuck on an unreachable database: the final flush retries
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def final_flush(completer: Completer, log: logging.Logger) -> None:
    backoff = Backoff(maximum=2)
    for _ in range(5):
        try:
            await completer.flush()
            return
        except Exception as exc:
            log.warning("Final flush of job outcomes failed (%s); retrying.", exc)
            await backoff.sleep()
    log.error("Gave up saving %d job outcomes; Recovery will retry them.", len(completer))


def install_signal_handlers(handler: Callable[[signal.Signals], None]) -> None:
    """Call ``handler(sig)`` on SIGTERM and SIGINT, where the event loop supports it (not
    on Windows, nor outside the main thread)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, handler, sig)
