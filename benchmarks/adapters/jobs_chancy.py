"""Job bodies for both chancy adapters: importable by dotted path, as chancy requires."""

from __future__ import annotations

import harness


async def noop() -> None:
    harness.job_ran()


def noop_sync() -> None:
    """For the thread and process executors (runs outside the harness's process or loop)."""
