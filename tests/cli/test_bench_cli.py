"""``chancy bench`` from the CLI: arguments pass through; a terminal gets a progress bar."""

from __future__ import annotations

import io

import pytest
import rich.console

from chancy.cli import bench as bench_cli
from chancy.cli import output
from tests.cli.conftest import invoke


def test_bench_help_and_bad_suite() -> None:
    assert "--suite" in invoke("bench", "--help").output
    result = invoke("bench", "--suite", "nosuch", "--quiet")
    assert result.exit_code == 2 and "Unknown suite" in result.output


def test_bench_with_a_progress_bar(dsn: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = io.StringIO()
    console = rich.console.Console(file=sink, force_terminal=True, width=100)
    monkeypatch.setattr(output, "_stderr_console", lambda: console)
    assert bench_cli.progress_possible()
    result = invoke("bench", "--dsn", dsn, "--suite", "enqueue,enqueue", "--quick", "--jobs", "20")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("push_many_ex") == 2  # both runs' rows in one table
    assert "enqueue" in sink.getvalue()
    bad = invoke("bench", "--dsn", dsn, "--suite", "nosuch")
    assert bad.exit_code == 2 and "Unknown suite" in bad.output
