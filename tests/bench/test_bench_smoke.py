"""A tiny run of every ``chancy bench`` suite, so the benchmark cannot rot unnoticed."""

from __future__ import annotations

import dataclasses

import pytest

from chancy.bench import SUITES, main, run_bench
from chancy.bench.common import Sizes
from chancy.bench.report import Report, percentile

TINY = dataclasses.replace(
    Sizes.quick(),
    push_single=20,
    push_many=300,
    push_many_ex=300,
    drain=200,
    async_concurrency=(10, 20),
    latency_samples=5,
    big_finished=2_000,
    big_pending=200,
    claim_repeats=3,
    memory_jobs=300,
    memory_warmup=50,
)


async def test_every_suite_reports_measured_rows(dsn: str) -> None:
    progress: list[str] = []
    report = await run_bench(dsn, sizes=TINY, progress=progress.append)

    assert report.env["postgres"].startswith("PostgreSQL")
    assert "synchronous_commit=" in report.env["settings"]
    assert {row.suite for row in report.rows} == set(SUITES)
    for row in report.rows:
        assert not row.note.startswith("FAILED"), (row.suite, row.case, row.note)
        if row.skipped:
            assert row.note.startswith("skipped"), (row.suite, row.case)
        else:
            assert row.value is not None, (row.suite, row.case)
            if row.suite != "memory":  # RSS growth may be negative: memory can shrink
                assert row.value >= 0, (row.suite, row.case)
    assert report.row("drain", "async x10").extra["succeeded"] == TINY.drain
    # Each drain case runs the executor and slots it names, not a stale declaration.
    assert report.row("drain", "async x20").extra["concurrency"] == 20
    assert report.row("drain", "async x20").extra["executor"] == "AsyncExecutor"
    threaded = [r for r in report.rows if r.case.startswith("threaded") and not r.skipped]
    assert all(r.extra["executor"] == "ThreadedExecutor" for r in threaded)
    assert report.row("enqueue", "push_many").extra["n"] == TINY.push_many
    assert report.row("latency", "push-to-start, notifications on").extra["samples"] == 5
    assert report.row("bigtable", "claim 100").value > 0
    table = report.table()
    assert "push_many_ex (AsyncSession)" in table and "claim 1" in table
    assert any(msg.startswith("memory: done") for msg in progress)


async def test_unknown_suite_is_rejected(dsn: str) -> None:
    with pytest.raises(ValueError, match="Unknown suite"):
        await run_bench(dsn, suites=["nope"], quick=True)


def test_cli_entry_point_prints_table(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dsn", dsn, "--quick", "--jobs", "50", "--suite", "enqueue", "-q"]) == 0
    out = capsys.readouterr().out
    assert "push (1 job/txn)" in out and "jobs/s" in out


def test_percentile_interpolates() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 99) == 5
    assert Report().table().strip().startswith("suite")
