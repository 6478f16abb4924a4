"""``chancy job``: list and inspect jobs, and retry, cancel or delete them by id."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

import click

from chancy.app import Chancy
from chancy.cli.common import JOB_ID, json_option, run_app
from chancy.cli.output import Column, ago, emit_listing, emit_record, text
from chancy.db.statements import jobs as jobs_sql
from chancy.job import QueuedJob, Reference
from chancy.utils import json_dumps

__all__ = ["DONE", "job", "job_record", "last_error_line", "result_of"]

DONE = frozenset({QueuedJob.State.SUCCEEDED, QueuedJob.State.FAILED})
_NO_RESULT = object()

LIST_COLUMNS = [
    Column("id", "Id"),
    Column("queue", "Queue"),
    Column("func", "Function"),
    Column("state", "State"),
    Column("attempts", "Attempts"),
    Column("priority", "Priority"),
    Column("created_at", "Created", ago),
    Column("completed_at", "Completed", ago),
]

DETAIL_FIELDS = [
    Column("id", "Id"),
    Column("func", "Function"),
    Column("queue", "Queue"),
    Column("state", "State"),
    Column("attempts", "Attempts"),
    Column("max_attempts", "Max attempts"),
    Column("priority", "Priority"),
    Column("kwargs", "Kwargs"),
    Column("unique_key", "Unique key"),
    Column("created_at", "Created"),
    Column("scheduled_at", "Scheduled"),
    Column("started_at", "Started"),
    Column("completed_at", "Completed"),
    Column("taken_by", "Taken by"),
    Column("limits", "Limits", lambda v: text([f"{lim['type_']}={lim['value']}" for lim in v])),
    Column("meta", "Meta"),
]


def result_of(job: QueuedJob) -> Any:
    """The stored return value, when this chancy stores results (``QueuedJob.result``)."""
    return getattr(job, "result", None)


def job_record(job: QueuedJob) -> dict[str, Any]:
    """Every field of ``job`` as JSON-ready values, the stored result included if any."""
    record = {k: v for k, v in dataclasses.asdict(job).items() if not k.startswith("_")}
    record["state"] = job.state.value
    value = getattr(job, "result", _NO_RESULT)
    if value is not _NO_RESULT:
        record["result"] = value
    return record


def last_error_line(job: QueuedJob) -> str:
    """The last line of the newest traceback: usually the exception and its message."""
    if not job.errors:
        return "no error was recorded"
    lines = [line for line in str(job.errors[-1].get("traceback", "")).splitlines() if line]
    return lines[-1].strip() if lines else "no traceback was recorded"


@click.group()
def job() -> None:
    """List, inspect, retry, cancel and delete jobs."""


@job.command("list")
@click.option(
    "--state",
    "-s",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in QueuedJob.State]),
    help="Only jobs in this state (repeatable).",
)
@click.option("--queue", "-q", default=None, help="Only jobs of this queue.")
@click.option("--func", "-f", default=None, help="Only jobs of this function (dotted path).")
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="At most this many jobs, newest first.",
)
@json_option
@run_app
async def list_jobs(
    app: Chancy,
    states: tuple[str, ...],
    queue: str | None,
    func: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List jobs, newest first."""
    stmt = jobs_sql.build_list_jobs(
        app.models, func=func, queue=queue, states=list(states), limit=limit, newest_first=True
    )
    async with app.engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    records = [job_record(jobs_sql.row_to_job(row)) for row in rows]
    emit_listing(records, LIST_COLUMNS, as_json=as_json, empty="No jobs match.")


@job.command()
@click.argument("job_id", type=JOB_ID)
@json_option
@run_app
async def get(app: Chancy, job_id: Reference, as_json: bool) -> None:
    """Show one job: its fields, each failed attempt's traceback, and its result."""
    found = await app.get_job(job_id)
    if found is None:
        raise click.ClickException(f"Job {job_id.identifier} not found.")
    record = job_record(found)
    sections = [
        (f"Attempt {error.get('attempt', '?')} error", str(error.get("traceback", "")))
        for error in found.errors
    ]
    fields = list(DETAIL_FIELDS)
    if "result" in record:
        fields.append(Column("result", "Result", lambda v: "" if v is None else json_dumps(v)))
    emit_record(record, fields, as_json=as_json, title=f"Job {found.id}", sections=sections)


async def _each(
    ids: tuple[Reference, ...],
    action: Callable[[Reference], Awaitable[bool]],
    done: str,
    skipped: str,
) -> None:
    """Apply ``action`` to each id and report each; exit 1 if any was skipped."""
    misses = 0
    for ref in ids:
        if await action(ref):
            click.echo(f"{done} {ref.identifier}")
        else:
            misses += 1
            click.echo(f"Skipped {ref.identifier}: {skipped}", err=True)
    if misses:
        raise click.ClickException(f"{misses} of {len(ids)} job(s) skipped.")


@job.command()
@click.argument("job_ids", nargs=-1, required=True, type=JOB_ID)
@run_app
async def retry(app: Chancy, job_ids: tuple[Reference, ...]) -> None:
    """Run finished (succeeded or failed) jobs again with a fresh attempt budget."""

    async def one(ref: Reference) -> bool:
        return bool(await app.retry_jobs([ref]))

    await _each(job_ids, one, "Retrying", "not found, or not finished yet")


@job.command()
@click.argument("job_ids", nargs=-1, required=True, type=JOB_ID)
@run_app
async def cancel(app: Chancy, job_ids: tuple[Reference, ...]) -> None:
    """Cancel jobs: a pending one never runs, a running one is interrupted; both fail."""

    async def one(ref: Reference) -> bool:
        return bool(await app.cancel_job(ref))

    await _each(job_ids, one, "Cancelled", "not found, or already finished")


@job.command()
@click.argument("job_ids", nargs=-1, required=True, type=JOB_ID)
@run_app
async def delete(app: Chancy, job_ids: tuple[Reference, ...]) -> None:
    """Delete jobs that are not running (cancel a running job first)."""

    async def one(ref: Reference) -> bool:
        return bool(await app.purge_jobs([ref]))

    await _each(job_ids, one, "Deleted", "not found, or running")
