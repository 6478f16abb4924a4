"""Job functions the browser tests push (importable by dotted path)."""

from __future__ import annotations

from pathlib import Path


async def ok() -> str:
    return "ok"


async def fail_until_marked(*, marker: str, note: str = "") -> str:
    """Fails until the file ``marker`` exists: the test creates it before pressing Retry."""
    if not Path(marker).exists():
        raise RuntimeError(f"marker {marker} is missing")
    return "done"


async def charge_card(*, customer_id: int, amount: float) -> None:
    """Always declined: gives the failed-jobs page (and the README's picture) some company."""
    raise ValueError(f"card of customer {customer_id} declined for {amount:.2f}")
