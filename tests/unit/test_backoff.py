"""Backoff delays and the worker's database retry policy (chancy.backoff), without a
database: the retries are driven the way the worker's loops drive them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from chancy.backoff import Backoff, DatabaseRetry
from tests.unit.fakes import LOG, FakeContext


def test_delays_double_up_to_the_maximum_with_jitter() -> None:
    backoff = Backoff(initial=1, maximum=5)
    caps = [1, 2, 4, 5, 5]
    for cap in caps:
        delay = backoff.next_delay()
        assert cap / 2 <= delay <= cap
    assert backoff.failures == len(caps)


def test_jitter_spreads_the_delays() -> None:
    backoff = Backoff(initial=8, maximum=8)
    assert len({round(backoff.next_delay(), 6) for _ in range(20)}) > 1


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(initial=1, maximum=60)
    for _ in range(6):
        backoff.next_delay()
    backoff.reset()
    assert backoff.failures == 0
    assert backoff.next_delay() <= 1


@pytest.mark.parametrize(
    ("initial", "maximum", "retries"),
    [(-1, 1, None), (2, 1, None), (float("nan"), 1, None), (0, 1, -1), (0, 1, True), (0, 1, 1.5)],
)
def test_settings_that_cannot_back_off_are_refused(
    initial: float, maximum: float, retries: int | None
) -> None:
    with pytest.raises(ValueError, match="backoff"):
        DatabaseRetry.check_settings(initial, maximum, retries)


@pytest.mark.parametrize(("initial", "maximum", "retries"), [(0, 0, None), (1, 60, 0), (1, 1, 3)])
def test_usable_settings_are_accepted(initial: float, maximum: float, retries: int | None) -> None:
    DatabaseRetry.check_settings(initial, maximum, retries)


async def test_retries_run_out_after_max_retries(caplog: pytest.LogCaptureFixture) -> None:
    retry = DatabaseRetry("Claiming", log=LOG, initial=0, maximum=0, max_retries=2)
    error = OSError("database gone")
    with caplog.at_level(logging.WARNING, logger=LOG.name):
        await retry.wait(error)
        await retry.wait(error)
        assert not retry.exhausted
        with pytest.raises(OSError, match="database gone"):
            await retry.wait(error)
    assert retry.exhausted
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Claiming failed (database gone); retrying" in m for m in messages) == 2
    assert any("failed 3 times in a row" in m and "giving up" in m for m in messages)


async def test_a_success_between_failures_restores_the_budget() -> None:
    retry = DatabaseRetry("Heartbeat", log=LOG, initial=0, maximum=0, max_retries=1)
    for _ in range(3):
        await retry.wait(OSError("blip"))
        retry.reset()
    assert not retry.exhausted


async def test_without_max_retries_it_retries_forever() -> None:
    retry = FakeContext().database_retry("Queues")
    for _ in range(50):
        await retry.wait(OSError("down"))
    assert not retry.exhausted and retry.failures == 50


async def test_a_cancellation_turned_into_a_database_error_stays_a_cancellation() -> None:
    """psycopg may swallow the CancelledError of a stopping worker and raise its own
    error; backing off would then sleep through the stop."""
    retry = DatabaseRetry("Claiming", log=LOG, initial=0, maximum=0)
    outcome: list[str] = []

    async def loop_step() -> None:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await asyncio.sleep(0)  # the cancellation is delivered here...
        except asyncio.CancelledError:
            pass  # ...and swallowed, as a driver turning it into its own error does
        try:
            await retry.wait(OSError("connection closed"))
        except asyncio.CancelledError:
            outcome.append("cancelled")
            raise
        outcome.append("retried")

    step = asyncio.ensure_future(loop_step())
    with pytest.raises(asyncio.CancelledError):
        await step
    assert outcome == ["cancelled"]
