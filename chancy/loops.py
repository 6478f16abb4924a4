"""The two idioms every long-running loop is made of, written once.

A loop waits for a reason to run (a wake-up event, or its interval running out), then
runs one pass; a pass that fails is reported and backed off, and the loop goes on. The
producers, the queue assignment, the registry, the completer, the listener, plugins
and :meth:`Plugin.every <chancy.plugin.Plugin.every>` all go through these two
functions, so shutdown and backoff behave the same in each.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

from chancy.backoff import Backoff

__all__ = ["FAILED", "attempt", "wait_for_event"]

T = TypeVar("T")


class _Failed(enum.Enum):
    FAILED = "failed"


#: What :func:`attempt` returns for a pass that raised.
FAILED: Literal[_Failed.FAILED] = _Failed.FAILED


async def wait_for_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until ``event`` is set or ``timeout`` seconds pass; True if it was set.

    The event is left as it is: the caller clears it when it has acted on it.

    asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
    that lands as the event is set, and a worker's stop would then hang on the loop.
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            await event.wait()
    return event.is_set()


async def attempt(
    step: Callable[[], Awaitable[T]],
    backoff: Backoff,
    *,
    on_error: Callable[[Exception], bool | None] | None = None,
) -> T | Literal[_Failed.FAILED]:
    """Run one pass of a loop: its result, after which ``backoff`` starts over; or, if
    it raised, :data:`FAILED` once ``backoff`` has waited.

    ``on_error`` runs inside the ``except`` block (so ``log.exception`` shows the
    traceback); returning False from it skips the wait. A cancellation always passes
    through, and a :class:`~chancy.backoff.DatabaseRetry` whose retries ran out raises
    the error instead of waiting.
    """
    try:
        result = await step()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if on_error is None or on_error(exc) is not False:
            await backoff.wait(exc)
        return FAILED
    backoff.reset()
    return result
