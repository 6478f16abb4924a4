"""The producer lets runs that just ended free their slots before it claims, so a claim
fills every free slot rather than the first one (threaded runs free theirs a few
event-loop turns after their thread returns)."""

from __future__ import annotations

import asyncio
from typing import Any

from chancy.worker.producer import LANDING_TURNS, Producer


class Slots:
    """An executor stand-in whose runs end one loop turn apart."""

    def __init__(self, concurrency: int, running: int) -> None:
        self.concurrency = concurrency
        self.running = running

    @property
    def free_slots(self) -> int:
        return self.concurrency - self.running

    def end_one_per_turn(self, turns: int) -> None:
        loop = asyncio.get_running_loop()

        def end(left: int) -> None:
            self.running -= 1
            if left > 1:
                loop.call_soon(end, left - 1)

        loop.call_soon(end, turns)


async def test_slots_freed_over_the_next_turns_are_all_claimed() -> None:
    executor = Slots(concurrency=4, running=3)
    executor.end_one_per_turn(3)
    await Producer._let_completions_land(executor)  # type: ignore[arg-type]
    assert executor.free_slots == 4


async def test_the_wait_is_bounded_and_skipped_when_every_slot_is_free() -> None:
    busy = Slots(concurrency=4, running=4)  # long runs: nothing ends
    turns = 0

    def count() -> None:
        nonlocal turns
        turns += 1
        loop.call_soon(count)

    loop = asyncio.get_running_loop()
    loop.call_soon(count)
    await Producer._let_completions_land(busy)  # type: ignore[arg-type]
    assert busy.free_slots == 0 and turns <= LANDING_TURNS + 1
    idle: Any = Slots(concurrency=4, running=0)
    before = turns
    await Producer._let_completions_land(idle)
    assert turns == before  # returned without yielding
