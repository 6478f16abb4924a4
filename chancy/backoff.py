"""Capped exponential backoff with jitter, for every loop that must outlive a DB outage."""

from __future__ import annotations

import asyncio
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
