"""Job functions the result tests push; importable by dotted path in every executor."""

from __future__ import annotations

import threading
from typing import Any

from chancy import job


def returns(value: Any) -> Any:
    return value


async def async_returns(value: Any) -> Any:
    return value


def returns_nothing() -> None:
    return None


def returns_text(size: int) -> str:
    return "x" * size


def returns_a_set() -> set[int]:
    return {1, 2, 3}


def returns_nan() -> float:
    return float("nan")


def returns_nul() -> dict[str, str]:
    return {"text": "a\x00b"}


def returns_a_lock() -> Any:
    """Not JSON and not picklable: it can't even leave a child process."""
    return threading.Lock()


def _refuse() -> None:
    raise RuntimeError("this object cannot be rebuilt outside the job")


class Unrebuildable:
    """Pickles in the child, but unpickling it in the worker fails."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_refuse, ())


def returns_unrebuildable() -> Unrebuildable:
    return Unrebuildable()


@job(store_result=False)
def keeps_result_to_itself() -> dict[str, int]:
    return {"secret": 1}
