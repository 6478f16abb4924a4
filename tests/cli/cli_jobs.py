"""Job functions the CLI tests push and an in-process worker runs."""

from __future__ import annotations


def add(a: int, b: int) -> int:
    return a + b


def boom() -> None:
    raise ValueError("boom: this job always fails")
