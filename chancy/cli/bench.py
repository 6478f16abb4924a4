"""``chancy bench``: the benchmark suite, with a progress bar on a terminal.

Every argument goes to :mod:`chancy.bench` (``chancy bench --help``); the command only adds
the bar, running the suites one by one so it can count them.
"""

from __future__ import annotations

import asyncio
import sys

import click

from chancy.bench import runner
from chancy.bench.report import Report
from chancy.cli.output import progress_bar, progress_possible

__all__ = ["bench"]


async def run_with_bar(argv: list[str]) -> int:
    args = runner.parse_args(argv)
    suites = [s.strip() for s in args.suite.split(",") if s.strip()]
    report: Report | None = None
    with progress_bar(len(suites), "bench") as bar:
        for name in suites:
            part = await runner.run_bench(
                args.dsn, suites=[name], jobs=args.jobs, quick=args.quick, progress=bar.note
            )
            if report is None:
                report = part
            else:
                report.rows += part.rows
            bar.advance(1)
    if report is None:
        return 0
    click.echo(report.table())
    if args.json:
        with open(args.json, "w") as f:
            f.write(report.to_json())
    return 0


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Run the benchmark suite; every argument goes to it (`chancy bench --help`)."""
    argv = list(ctx.args)
    quiet = {"-q", "--quiet", "-h", "--help"} & set(argv)
    if quiet or not progress_possible():
        raise SystemExit(runner.main(argv))
    try:
        raise SystemExit(asyncio.run(run_with_bar(argv)))
    except ValueError as exc:
        print(f"chancy bench: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
