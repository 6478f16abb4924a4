"""``chancy bench``: reproducible throughput, latency and memory numbers for this machine.

::

    python -m chancy.bench --dsn postgresql://localhost/app --quick
    report = await run_bench(dsn, suites=["drain"], jobs=20_000)
"""

from __future__ import annotations

from chancy.bench.report import Report, Row
from chancy.bench.runner import SUITES, main, run_bench

__all__ = ["SUITES", "Report", "Row", "main", "run_bench"]
