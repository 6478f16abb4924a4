"""The one way every command prints: a rich table on a terminal, aligned plain text in a
pipe, JSON with ``--json``; plus the progress displays of long operations.

Keeping it in one place means every listing gets the same three forms, and scripts can
rely on ``--json`` while people get tables. Progress goes to stderr so that stdout only
ever holds the command's answer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click

from chancy.utils import json_dumps

try:  # The ``cli`` extra; without it everything prints as plain text.
    import rich.box
    import rich.console
    import rich.markup
    import rich.progress
    import rich.table
except ImportError:  # pragma: no cover - rich is in the dev extra
    rich = None  # type: ignore[assignment]

__all__ = [
    "Bar",
    "Column",
    "ago",
    "emit_json",
    "emit_listing",
    "emit_record",
    "progress_bar",
    "progress_possible",
    "seconds",
    "spinner",
    "text",
]


def text(value: Any) -> str:
    """A cell: empty for None, sorted and comma-joined for collections, ISO for times."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, set | frozenset | list | tuple):
        return ", ".join(str(v) for v in (sorted(value) if isinstance(value, set) else value))
    if isinstance(value, dict):
        return json_dumps(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def seconds(value: float | None) -> str:
    """A duration the way people read it: ``45s``, ``3m 20s``, ``2h 05m``, ``4d 3h``."""
    if value is None:
        return ""
    total = max(int(value), 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def ago(value: dt.datetime | None) -> str:
    """``3m 20s ago`` (or ``in 3m 20s`` for a time still to come)."""
    if value is None:
        return ""
    delta = (dt.datetime.now(dt.UTC) - value).total_seconds()
    return f"{seconds(delta)} ago" if delta >= 0 else f"in {seconds(-delta)}"


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a listing: the record key, its header and how to show a value."""

    key: str
    header: str
    show: Callable[[Any], str] = text


def _terminal() -> bool:
    return rich is not None and sys.stdout.isatty()


#: On a terminal a column is cut (with an ellipsis) only beyond this width.
WIDEST_CELL = 40


def _rich_table(columns: Sequence[Column], rows: list[list[str]], title: str | None) -> None:
    """A table whose columns keep their natural width up to :data:`WIDEST_CELL`; a
    terminal too narrow for that gets long lines rather than unreadable cut ids."""
    table = rich.table.Table(title=title, header_style="bold", box=rich.box.SIMPLE_HEAD)
    widths = []
    for i, col in enumerate(columns):
        width = min(max(len(col.header), *(len(r[i]) for r in rows)), WIDEST_CELL)
        widths.append(width)
        table.add_column(col.header, no_wrap=True, overflow="ellipsis", min_width=width)
    for row in rows:
        table.add_row(*(rich.markup.escape(cell) for cell in row))
    console = rich.console.Console()
    needed = sum(widths) + 3 * len(widths) + 2
    if needed > console.width:
        console = rich.console.Console(width=needed)
    console.print(table)


def emit_json(data: Any) -> None:
    """``data`` as one JSON document on stdout (UUIDs, times and enums encoded)."""
    click.echo(json_dumps(data))


def emit_listing(
    records: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    *,
    as_json: bool,
    title: str | None = None,
    empty: str = "Nothing to show.",
) -> None:
    """Print ``records``: the full records as a JSON array, or ``columns`` of them as a table."""
    if as_json:
        emit_json(list(records))
        return
    if not records:
        click.echo(empty, err=True)
        return
    rows = [[col.show(rec.get(col.key)) for col in columns] for rec in records]
    if _terminal():
        _rich_table(columns, rows, title)
        return
    headers = [col.header.upper() for col in columns]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for line in [headers, *rows]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


def emit_record(
    record: dict[str, Any],
    fields: Sequence[Column],
    *,
    as_json: bool,
    title: str | None = None,
    sections: Sequence[tuple[str, str]] = (),
) -> None:
    """Print one record as ``field: value`` lines, then free-text ``sections`` (heading, body)
    such as tracebacks; with ``as_json`` the whole record as a JSON object instead."""
    if as_json:
        emit_json(record)
        return
    pairs = [(col.header, col.show(record.get(col.key))) for col in fields]
    if _terminal():
        console = rich.console.Console()
        table = rich.table.Table(title=title, show_header=False, box=None)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        for name, value in pairs:
            table.add_row(name, rich.markup.escape(value))
        console.print(table)
        for heading, body in sections:
            console.rule(rich.markup.escape(heading), align="left")
            console.print(body, markup=False, highlight=False)
        return
    width = max(len(name) for name, _ in pairs)
    for name, value in pairs:
        click.echo(f"{name.ljust(width)}  {value}".rstrip())
    for heading, body in sections:
        click.echo(f"\n--- {heading}")
        click.echo(body.rstrip())


def _stderr_console() -> Any:
    if rich is None or not sys.stderr.isatty():
        return None
    return rich.console.Console(stderr=True)


class Bar:
    """A handle on a progress display: ``advance(n)`` and ``note(text)``; no-ops off a
    terminal, so callers never check where they print."""

    def __init__(self, progress: Any = None, task: Any = None) -> None:
        self._progress = progress
        self._task = task

    def advance(self, n: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, n)

    def note(self, description: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=description)


def progress_possible() -> bool:
    """Whether a progress display would be seen (rich installed, stderr a terminal)."""
    return _stderr_console() is not None


@contextlib.contextmanager
def progress_bar(total: int, description: str) -> Iterator[Bar]:
    """A bar on stderr while the block runs (cleared at the end); silent off a terminal."""
    console = _stderr_console()
    if console is None:
        yield Bar()
        return
    columns = (
        *rich.progress.Progress.get_default_columns(),
        rich.progress.MofNCompleteColumn(),
    )
    with rich.progress.Progress(*columns, console=console, transient=True) as progress:
        yield Bar(progress, progress.add_task(description, total=total))


@contextlib.contextmanager
def spinner(description: str) -> Iterator[Callable[[str], None]]:
    """A spinner with a status line on stderr; yields ``update(text)``. Silent off a terminal."""
    console = _stderr_console()
    if console is None:
        yield lambda _text: None
        return
    with console.status(description) as status:
        yield lambda line: status.update(line)
