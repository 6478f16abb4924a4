"""The one output helper: table on a terminal, plain text in a pipe, JSON on request."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
import rich.console

from chancy.cli import output
from chancy.cli.output import Column, emit_listing, emit_record, progress_bar, seconds, spinner

RECORDS = [
    {"id": uuid.UUID(int=1), "name": "mail", "tags": {"b", "a"}, "when": None},
    {"id": uuid.UUID(int=2), "name": "a-much-longer-name", "tags": set(), "when": None},
]
COLUMNS = [Column("name", "Name"), Column("tags", "Tags")]


def test_plain_text_is_aligned_with_a_header(capsys: pytest.CaptureFixture[str]) -> None:
    emit_listing(RECORDS, COLUMNS, as_json=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "TAGS"]
    assert lines[1].split() == ["mail", "a,", "b"]
    assert lines[1].index("a,") == lines[0].index("TAGS") == len("a-much-longer-name") + 2


def test_json_holds_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    emit_listing(RECORDS, COLUMNS, as_json=True)
    data = json.loads(capsys.readouterr().out)
    assert data[0] == {
        "id": str(uuid.UUID(int=1)),
        "name": "mail",
        "tags": ["a", "b"],
        "when": None,
    }


def test_empty_listing_says_so_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    emit_listing([], COLUMNS, as_json=False, empty="No queues.")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == "No queues."
    emit_listing([], COLUMNS, as_json=True)
    assert json.loads(capsys.readouterr().out) == []


def test_a_terminal_gets_a_rich_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "_terminal", lambda: True)
    emit_listing([{"name": "[bold]x[/bold]", "tags": {"t"}}], COLUMNS, as_json=False, title="Q")
    out = capsys.readouterr().out
    assert "Name" in out and "[bold]x[/bold]" in out  # markup in data is shown, not applied
    assert "─" in out or "━" in out
    emit_record({"name": "n", "tags": []}, COLUMNS, as_json=False, sections=[("Trace", "E: x")])
    out = capsys.readouterr().out
    assert "Trace" in out and "E: x" in out


def test_record_plain_with_sections(capsys: pytest.CaptureFixture[str]) -> None:
    emit_record({"name": "n", "tags": ["x"]}, COLUMNS, as_json=False, sections=[("Err", "tb\n")])
    assert capsys.readouterr().out == "Name  n\nTags  x\n\n--- Err\ntb\n"


def test_progress_displays_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    with progress_bar(3, "Pushing") as bar:  # not a terminal: silent no-ops
        bar.advance(3)
        bar.note("x")
    sink = io.StringIO()
    console = rich.console.Console(file=sink, force_terminal=True, width=80)
    monkeypatch.setattr(output, "_stderr_console", lambda: console)
    with progress_bar(4, "Pushing") as bar:
        bar.advance(2)
        bar.note("Pushing more")
        bar.advance(2)
    with spinner("Waiting") as update:
        update("Job x: running")
    assert "Pushing" in sink.getvalue()


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, ""), (5.7, "5s"), (200, "3m 20s"), (7500, "2h 05m"), (360000, "4d 4h"), (-3, "0s")],
)
def test_seconds(value: float | None, shown: str) -> None:
    assert seconds(value) == shown


def test_ago() -> None:
    now = dt.datetime.now(dt.UTC)
    assert output.ago(now - dt.timedelta(seconds=90)).endswith("ago")
    assert output.ago(now + dt.timedelta(hours=2)).startswith("in ")
    assert output.text(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == "2026-01-02 03:04:05"
    assert output.text(True) == "yes" and output.text({"a": 1}) == '{"a":1}'
