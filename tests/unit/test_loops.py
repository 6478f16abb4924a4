"""The loop idioms (chancy.loops) and the producer's own state changes, without a database.

The producer is driven through a fake :class:`~chancy.worker.context.WorkerContext`:
the Protocol is all it sees of the worker.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from chancy.backoff import Backoff, DatabaseRetry
from chancy.hub import Event
from chancy.loops import FAILED, attempt, wait_for_event
from chancy.queue import Queue
from chancy.worker.producer import Producer
from tests.unit.fakes import FakeContext

LOG = logging.getLogger("tests.loops")


class CountingBackoff(Backoff):
    def __init__(self) -> None:
        super().__init__(initial=0, maximum=0)
        self.waits: list[BaseException] = []
        self.resets = 0

    async def wait(self, error: BaseException) -> None:
        self.waits.append(error)

    def reset(self) -> None:
        self.resets += 1


async def test_wait_for_event_returns_at_once_when_set() -> None:
    event = asyncio.Event()
    event.set()
    assert await wait_for_event(event, 60) is True
    assert event.is_set()  # left for the caller to clear


async def test_wait_for_event_times_out() -> None:
    assert await wait_for_event(asyncio.Event(), 0) is False


async def test_wait_for_event_passes_a_cancellation_through() -> None:
    event = asyncio.Event()
    waiting = asyncio.create_task(wait_for_event(event, None))
    await asyncio.sleep(0)
    event.set()
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting


async def test_attempt_returns_the_result_and_resets() -> None:
    backoff = CountingBackoff()

    async def step() -> int:
        return 7

    assert await attempt(step, backoff) == 7
    assert backoff.resets == 1 and backoff.waits == []


async def test_attempt_reports_and_backs_off() -> None:
    backoff = CountingBackoff()
    seen: list[Exception] = []

    async def step() -> None:
        raise ValueError("down")

    assert await attempt(step, backoff, on_error=seen.append) is FAILED
    assert [str(e) for e in seen] == ["down"] and len(backoff.waits) == 1
    # on_error returning False skips the wait
    assert await attempt(step, backoff, on_error=lambda exc: False) is FAILED
    assert len(backoff.waits) == 1 and backoff.resets == 0


async def test_attempt_raises_when_database_retries_run_out() -> None:
    retry = DatabaseRetry("Test loop", log=LOG, initial=0, maximum=0, max_retries=0)

    async def step() -> None:
        raise OSError("gone")

    with pytest.raises(OSError, match="gone"):
        await attempt(step, retry)
    assert retry.exhausted


async def test_producer_state_changes_through_its_own_methods() -> None:
    ctx = FakeContext()
    producer = Producer(ctx, Queue("q"))  # type: ignore[arg-type]
    assert producer.may_claim

    producer.retire()
    assert producer.retiring and not producer.may_claim and producer.wake.is_set()

    producer.wake.clear()
    producer.replace_with(Queue("q", concurrency=2))
    assert not producer.retiring and producer.replacement == Queue("q", concurrency=2)
    assert producer.wake.is_set()

    updates: list[dict[str, Any]] = []

    async def seen(event: Event) -> None:
        updates.append(event.body)

    ctx.hub.on("worker.queue.updated", seen)
    paused = Queue("q", state=Queue.State.PAUSED)
    await producer.apply_live(paused)
    assert producer.queue == paused
    assert updates and updates[0]["queue"] == paused and updates[0]["worker"] is ctx

    ctx.shutdown_event.set()
    fresh = Producer(ctx, Queue("r"))  # type: ignore[arg-type]
    assert not fresh.may_claim
