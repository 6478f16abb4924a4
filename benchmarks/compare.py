"""Compare this chancy with upstream Chancy 0.26, PgQueuer, procrastinate and a raw-SQL
floor on the same machine, with the same workloads (see ``adapters/harness.py``).

Each peer runs from its own virtualenv under ``benchmarks/.venvs`` (created on first use,
git-ignored; none of them is a dependency of this package) through a small adapter that
uses only its public API. Every run gets a fresh database ``bench_<system>_<pid>``, dropped
afterwards. Systems are alternated and the whole set is repeated ``--rounds`` times, so
drift in machine load hits every system alike; medians are reported.

    .venv/bin/python benchmarks/compare.py --rounds 3 --jobs 20000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ADAPTERS = HERE / "adapters"

#: system -> (virtualenv name or None for this repo's interpreter, adapter, requirements)
SYSTEMS: dict[str, tuple[str | None, str, list[str]]] = {
    "ours": (None, "ours.py", []),
    "chancy": ("chancy", "upstream_chancy.py", ["chancy==0.26.*", "psycopg[binary]"]),
    "pgqueuer": ("pgqueuer", "pgqueuer_adapter.py", ["pgqueuer", "asyncpg", "psycopg[binary]"]),
    "procrastinate": (
        "procrastinate",
        "procrastinate_adapter.py",
        ["procrastinate", "psycopg[binary,pool]"],
    ),
    "raw": (None, "raw_floor.py", []),
}
WORKLOADS = (
    "enqueue_batch",
    "enqueue_single",
    "drain",
    "drain_threaded",
    "drain_process",
    "latency",
)
#: Workloads only the chancy adapters run (executors the peers do not have).
CHANCY_ONLY = ("drain_threaded", "drain_process")


def python_for(system: str, venvs: Path) -> str:
    venv, _, requirements = SYSTEMS[system]
    if venv is None:
        return sys.executable
    path = venvs / venv
    python = path / "bin" / "python"
    if not python.exists():
        print(f"# creating {path} with {' '.join(requirements)}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    return str(python)


def admin(dsn: str, sql: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql)


def db_dsn(admin_dsn: str, name: str) -> str:
    """The admin URL pointed at database ``name`` (every adapter accepts a URL)."""
    return urlunsplit(urlsplit(admin_dsn)._replace(path=f"/{name}"))


def run_one(
    system: str, workload: str, args: argparse.Namespace, venvs: Path
) -> dict[str, Any] | None:
    if system == "raw" and workload in ("latency", *CHANCY_ONLY):
        return None
    if workload in CHANCY_ONLY and system not in ("ours", "chancy"):
        return None
    # The process id keeps two comparisons on one server (two checkouts) apart.
    database = f"bench_{system}_{os.getpid()}"
    admin(args.dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin(args.dsn, f'CREATE DATABASE "{database}"')
    cmd = [
        python_for(system, venvs),
        str(ADAPTERS / SYSTEMS[system][1]),
        "--dsn",
        db_dsn(args.dsn, database),
        "--workload",
        workload,
        "--jobs",
        str(args.jobs),
        "--concurrency",
        str(args.pool_slots if workload in CHANCY_ONLY else args.concurrency),
        "--samples",
        str(args.samples),
    ]
    env = dict(os.environ)
    if system == "ours":
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=args.timeout, cwd=ADAPTERS
        )
    except subprocess.TimeoutExpired:
        return {"system": system, "workload": workload, "value": None, "error": "timeout"}
    finally:
        admin(args.dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"system": system, "workload": workload, "value": None, "error": " | ".join(tail)}
    return json.loads(lines[-1])


def summarise(results: list[dict[str, Any]], systems: list[str]) -> str:
    by: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in results:
        by.setdefault((r["_system"], r["workload"]), []).append(r)
    lines = []
    header = ["workload", *systems]
    rows = []
    for workload in (*WORKLOADS[:2], PUSH_P50, *WORKLOADS[2:]):
        if workload == PUSH_P50:
            rows.append(_push_p50_row(by, systems))
            continue
        row = [workload]
        ours = _median(by.get(("ours", workload), []))
        for system in systems:
            runs = by.get((system, workload), [])
            value = _median(runs)
            if value is None:
                failed = [r.get("error") for r in runs if r.get("error")]
                row.append("fail" if failed else "-")
                continue
            unit = runs[0].get("unit", "")
            cell = f"{value:,.0f}" if value >= 100 else f"{value:.1f}"
            if workload == "latency":
                p99 = statistics.median(r["p99"] for r in runs if r.get("value") is not None)
                cell = f"{value:.1f}/{p99:.1f} ms"
            elif unit:
                cell += "/s"
            if system != "ours" and ours is not None and value:
                ratio = value / ours if workload == "latency" else ours / value
                cell += f" ({ratio:.2f}x)"
            spread = [r["value"] for r in runs if r.get("value") is not None]
            if len(spread) > 1 and workload != "latency":
                cell += f" [{min(spread):,.0f}-{max(spread):,.0f}]"
            row.append(cell)
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    lines.append(fmt.format(*header))
    lines.append("-|-".join("-" * w for w in widths))
    lines += [fmt.format(*row) for row in rows]
    lines.append(
        "(x) = ours / theirs for throughput, theirs / ours for latency: above 1 means ours is "
        "better. [min-max] over rounds. Latency is p50/p99."
    )
    return "\n".join(lines)


#: The row derived from enqueue_single: the p50 of one push call, in ms.
PUSH_P50 = "push p50 (1 job)"


def _push_p50_row(by: dict[tuple[str, str], list[dict[str, Any]]], systems: list[str]) -> list[str]:
    """One push's p50 in ms per system, [min-max] over rounds, (theirs / ours)."""
    row = [PUSH_P50]
    values = {
        system: [r["p50_ms"] for r in by.get((system, "enqueue_single"), []) if r.get("p50_ms")]
        for system in systems
    }
    ours = statistics.median(values["ours"]) if values.get("ours") else None
    for system in systems:
        spread = values[system]
        if not spread:
            row.append("-")
            continue
        value = statistics.median(spread)
        cell = f"{value:.2f} ms"
        if system != "ours" and ours:
            cell += f" ({value / ours:.2f}x)"
        if len(spread) > 1:
            cell += f" [{min(spread):.2f}-{max(spread):.2f}]"
        row.append(cell)
    return row


def _median(runs: list[dict[str, Any]]) -> float | None:
    values = [r["value"] for r in runs if r.get("value") is not None]
    return statistics.median(values) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dsn",
        default="postgresql://root@127.0.0.1:5432/test",
        help="admin DSN; bench_<system>_<pid> databases are created beside it",
    )
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument(
        "--pool-slots",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="slots for the threaded/process drains (default 2 x cores)",
    )
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--venvs", default=str(HERE / ".venvs"))
    parser.add_argument("--json", help="write every run's result here")
    parser.add_argument("--summarise", metavar="JSON", help="only print the table of a saved run")
    args = parser.parse_args(argv)
    systems = [s for s in args.systems.split(",") if s]
    if args.summarise:
        print(summarise(json.loads(Path(args.summarise).read_text()), systems))
        return 0
    workloads = [w for w in args.workloads.split(",") if w]
    venvs = Path(args.venvs)
    results: list[dict[str, Any]] = []
    for rnd in range(args.rounds):
        order = systems[rnd % len(systems) :] + systems[: rnd % len(systems)]
        for workload in workloads:
            for system in order:
                start = time.perf_counter()
                result = run_one(system, workload, args, venvs)
                if result is None:
                    continue
                result["_system"], result["_round"] = system, rnd
                results.append(result)
                if args.json:  # rewritten after every run, so a cut-short run still counts
                    Path(args.json).write_text(json.dumps(results, indent=2))
                shown = result.get("value")
                shown = (
                    "FAILED " + str(result.get("error", "")) if shown is None else f"{shown:,.1f}"
                )
                print(
                    f"# round {rnd + 1} {workload:<14} {system:<13} {shown} "
                    f"{result.get('unit', '')} ({time.perf_counter() - start:.0f} s)",
                    file=sys.stderr,
                    flush=True,
                )
    print(
        f"jobs={args.jobs:,} concurrency={args.concurrency} latency samples={args.samples} "
        f"rounds={args.rounds}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    versions = {r["_system"]: r.get("version", "") for r in results}
    print("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    print(summarise(results, systems))
    return 0


if __name__ == "__main__":
    sys.exit(main())
