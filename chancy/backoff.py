"""Capped exponential backoff with jitter, for every loop that must outlive a DB outage."""

from __future__ import annotations

import asyncio
import logging
import random


class Backoff:
    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self.initial = initial
        self.maximum = maximum
        self.failures = 0

    def reset(self) -> None:
        self.failures = 0

    def next_delay(self) -> float:
        self.failures += 1
        cap = min(self.maximum, self.initial * 2 ** (self.failures - 1))
        return random.uniform(cap / 2, cap)

    async def sleep(self) -> None:
        await asyncio.sleep(self.next_delay())

    async def wait(self, error: BaseException) -> None:
        """Back off after ``error``: sleep the next delay (subclasses also log it)."""
        await self.sleep()


class DatabaseRetry(Backoff):
    """Backoff state for one of a worker's database loops (``Worker.database_retry``).

    After each failure :meth:`wait` logs it and sleeps; a success calls :meth:`reset`.
    With ``max_retries`` set, the failure after that many consecutive retries is
    re-raised instead (``exhausted`` is then True), so the worker stops rather than
    retrying forever. A cancellation that psycopg turned into a database error is
    re-raised as the cancellation it is, so a stop is never mistaken for an outage.
    """

    def __init__(
        self,
        name: str,
        *,
        log: logging.Logger,
        initial: float = 1.0,
        maximum: float = 60.0,
        max_retries: int | None = None,
    ) -> None:
        super().__init__(initial=initial, maximum=maximum)
        self.name = name
        self.log = log
        self.max_retries = max_retries
        self.exhausted = False

    @staticmethod
    def check_settings(initial: float, maximum: float, max_retries: int | None) -> None:
        """Refuse settings that cannot back off (the names are the Worker's parameters)."""
        if not initial >= 0 or not maximum >= initial:
            raise ValueError(
                f"Worker backoff needs 0 <= backoff_initial <= backoff_max, got "
                f"backoff_initial={initial!r}, backoff_max={maximum!r}."
            )
        if max_retries is not None and (
            isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0
        ):
            raise ValueError(
                "backoff_max_retries must be None (retry forever) or a count of 0 or more, "
                f"got {max_retries!r}."
            )

    async def wait(self, error: BaseException) -> None:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise asyncio.CancelledError
        if self.max_retries is not None and self.failures >= self.max_retries:
            self.exhausted = True
            self.log.error(
                "%s failed %d times in a row (%s); giving up.", self.name, self.failures + 1, error
            )
            raise error
        delay = self.next_delay()
        self.log.warning(
            "%s failed (%s); retrying in %.1fs (failure %d).",
            self.name,
            error,
            delay,
            self.failures,
        )
        await asyncio.sleep(delay)
