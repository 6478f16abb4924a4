"""Job bodies for both chancy adapters: importable by dotted path, as chancy requires."""

from __future__ import annotations

import harness


async def noop() -> None:
    harness.job_ran()
