"""The benchmark report: environment, one row per measured case, a text table and JSON."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclasses.dataclass
class Row:
    """One measured case. ``value`` is the headline number; ``met`` compares it with a
    target when one applies (None: no target, or skipped)."""

    suite: str
    case: str
    value: float | None
    unit: str
    detail: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        return self.value is None


@dataclasses.dataclass
class Report:
    env: dict[str, Any] = dataclasses.field(default_factory=dict)
    rows: list[Row] = dataclasses.field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def row(self, suite: str, case: str) -> Row:
        """The row of ``suite``/``case`` (KeyError when it was not run)."""
        for row in self.rows:
            if row.suite == suite and row.case == case:
                return row
        raise KeyError(f"{suite}/{case}")

    def to_dict(self) -> dict[str, Any]:
        return {"env": self.env, "rows": [dataclasses.asdict(r) for r in self.rows]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def table(self) -> str:
        """The report as plain text: environment lines, then an aligned table."""
        lines = [f"{k}: {v}" for k, v in self.env.items()]
        header = ("suite", "case", "result", "detail", "target")
        body = []
        for r in self.rows:
            if r.skipped:
                result = "skipped"
            else:
                result = f"{_fmt(r.value)} {r.unit}"
            target = r.target
            if r.met is not None:
                target = f"{target} {'ok' if r.met else 'MISSED'}".strip()
            detail = "; ".join(x for x in (r.detail, r.note) if x)
            body.append((r.suite, r.case, result, detail, target))
        widths = [max(len(str(c)) for c in col) for col in zip(header, *body, strict=True)]
        fmt = "  ".join(f"{{:<{w}}}" for w in widths)
        lines += ["", fmt.format(*header), fmt.format(*("-" * w for w in widths))]
        lines += [fmt.format(*row).rstrip() for row in body]
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def machine_info() -> dict[str, Any]:
    """What the numbers depend on besides Postgres: CPU, memory, Python, drivers."""
    import psycopg
    import sqlalchemy

    info: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {_memory_gb()} GB RAM",
        "cpu": _cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "drivers": f"psycopg {psycopg.__version__}, SQLAlchemy {sqlalchemy.__version__}",
        "load average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.0f}"
    except OSError:
        pass
    return "?"


def rss_mb() -> float:
    """This process's resident set size (VmRSS) in MiB; NaN where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
