"""``chancy queue push``: one job from options, or many from a file of JSON lines; with
``--wait``, follow them until they finish."""

from __future__ import annotations

import asyncio
import json
import time
from typing import IO, Any

import click

from chancy.app import Chancy
from chancy.cli.common import json_option, run_app
from chancy.cli.job import DONE, job_record, last_error_line, result_of
from chancy.cli.output import emit_json, progress_bar, seconds, spinner
from chancy.errors import ConfigurationError
from chancy.job import Job, QueuedJob, Reference
from chancy.utils import json_dumps

__all__ = ["parse_job_lines", "push"]

#: Keys a line of ``--file`` may hold; the rest come from the command's options.
LINE_KEYS = {"func", "kwargs", "queue", "priority", "unique_key", "max_attempts", "meta"}
#: Jobs per statement when pushing a file (each batch commits on its own).
FILE_BATCH = 500


def _json_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{where} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise click.BadParameter(f'{where} must be a JSON object, e.g. {{"name": "x"}}.')
    return value


def parse_job_lines(source: IO[str], defaults: dict[str, Any]) -> list[Job]:
    """Every job of a JSON-lines file, all checked before anything is pushed.

    Each non-blank line is an object with any of :data:`LINE_KEYS`; a missing key takes
    the command's option (``func`` defaults to the FUNC argument).
    """
    jobs: list[Job] = []
    for number, line in enumerate(source, 1):
        if not line.strip():
            continue
        where = f"Line {number} of {getattr(source, 'name', 'the file')}"
        fields = _json_object(line, where)
        unknown = set(fields) - LINE_KEYS
        if unknown:
            raise click.BadParameter(
                f"{where} has unknown key(s) {sorted(unknown)}; allowed: {sorted(LINE_KEYS)}."
            )
        merged = {**defaults, **fields}
        if not merged.get("func"):
            raise click.BadParameter(f"{where} has no 'func' and no FUNC argument was given.")
        try:
            job = Job(**merged)
            job.validate()
        except (TypeError, ConfigurationError) as exc:
            raise click.BadParameter(f"{where}: {exc}") from exc
        jobs.append(job)
    return jobs


async def wait_for_one(app: Chancy, ref: Reference, interval: float) -> QueuedJob | None:
    """Poll the job until it finishes, showing its state and attempt on a spinner."""
    start = time.monotonic()
    with spinner(f"Waiting for job {ref.identifier}") as update:
        while True:
            job = await app.get_job(ref)
            if job is None or job.state in DONE:
                return job
            elapsed = seconds(time.monotonic() - start)
            update(f"Job {ref.identifier}: {job.state.value}, attempts {job.attempts}, {elapsed}")
            await asyncio.sleep(interval)


async def wait_for_many(app: Chancy, refs: list[Reference], interval: float) -> list[QueuedJob]:
    """Poll until every job finished (or vanished), with a bar of finished jobs."""
    pending = {ref.identifier for ref in refs}
    finished: list[QueuedJob] = []
    with progress_bar(len(pending), "Waiting for jobs") as bar:
        while pending:
            found = await app.get_jobs([Reference(i) for i in pending])
            gone = len(pending) - len(found)
            done = [job for job in found if job.state in DONE]
            finished += done
            pending = {job.id for job in found if job.state not in DONE}
            bar.advance(gone + len(done))
            if pending:
                await asyncio.sleep(interval)
    return finished


def report_one(job: QueuedJob | None, ref: Reference, as_json: bool) -> None:
    """Print a finished job's result (or its error) and exit 1 unless it succeeded."""
    if job is None:
        raise click.ClickException(f"Job {ref.identifier} was deleted before it finished.")
    if as_json:
        emit_json(job_record(job))
    elif job.state == QueuedJob.State.SUCCEEDED:
        result = result_of(job)
        click.echo(f"Job {job.id} succeeded.", err=True)
        if result is not None:
            click.echo(json_dumps(result))
    if job.state != QueuedJob.State.SUCCEEDED:
        raise click.ClickException(f"Job {job.id} failed: {last_error_line(job)}")


@click.command()
@click.argument("func", required=False)
@click.option(
    "--queue", "-q", "queue_name", default="default", show_default=True, help="The queue to use."
)
@click.option(
    "--priority", "-p", type=int, default=0, show_default=True, help="Higher runs sooner."
)
@click.option(
    "--unique-key", "-u", default=None, help="Skip the push while a job with this key is active."
)
@click.option(
    "--max-attempts", "-m", type=int, default=1, show_default=True, help="Runs before it fails."
)
@click.option("--kwargs", "-k", default=None, help="Keyword arguments as a JSON object.")
@click.option(
    "--file",
    "-f",
    "source",
    type=click.File("r"),
    default=None,
    help="Push one job per line of this JSON-lines file ('-' for stdin); each line holds "
    "any of func, kwargs, queue, priority, unique_key, max_attempts, meta.",
)
@click.option(
    "--wait",
    is_flag=True,
    help="Wait until the job(s) finish and print the result; exit 1 if one failed.",
)
@click.option(
    "--timeout", type=float, default=None, help="With --wait: give up after this many seconds."
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=0.5,
    show_default=True,
    help="With --wait: seconds between checks.",
)
@json_option
@run_app
async def push(
    app: Chancy,
    func: str | None,
    queue_name: str,
    priority: int,
    unique_key: str | None,
    max_attempts: int,
    kwargs: str | None,
    source: IO[str] | None,
    wait: bool,
    timeout: float | None,
    interval: float,
    as_json: bool,
) -> None:
    """Push a job calling FUNC (a dotted import path) and print its id.

    The function is not imported here (decorator defaults are not applied), so this works
    from any machine that can reach the database.
    """
    defaults: dict[str, Any] = {
        "func": func,
        "queue": queue_name,
        "priority": priority,
        "unique_key": unique_key,
        "max_attempts": max_attempts,
        "kwargs": _json_object(kwargs, "--kwargs") if kwargs else {},
    }
    if source is None:
        if not func:
            raise click.UsageError("Give FUNC (a dotted import path) or --file.")
        jobs = [Job(**defaults)]
        refs = [await app.push(jobs[0])]
    else:
        jobs = parse_job_lines(source, defaults)
        refs = []
        with progress_bar(len(jobs), "Pushing") as bar:
            async for batch in app.push_many(jobs, batch_size=FILE_BATCH):
                refs += batch
                bar.advance(len(batch))
    if not wait:
        if as_json:
            emit_json(
                [{"id": ref.identifier} for ref in refs] if source else {"id": refs[0].identifier}
            )
        else:
            click.echo("\n".join(str(ref.identifier) for ref in refs))
        return
    try:
        async with asyncio.timeout(timeout):
            if source is None:
                report_one(await wait_for_one(app, refs[0], interval), refs[0], as_json)
                return
            finished = await wait_for_many(app, refs, interval)
    except TimeoutError:
        raise click.ClickException(
            f"Still not finished after {timeout:g} s (the jobs keep running; "
            "see `chancy job list`)."
        ) from None
    if as_json:
        emit_json([job_record(job) for job in finished])
    failed = [job for job in finished if job.state != QueuedJob.State.SUCCEEDED]
    click.echo(f"{len(finished) - len(failed)} succeeded, {len(failed)} failed.", err=True)
    if failed:
        raise click.ClickException(f"{len(failed)} job(s) failed, e.g. {failed[0].id}.")
