"""``chancy job``: list, get, retry, cancel and delete; and ``queue push --wait``."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from chancy import Chancy, Job, Queue, QueuedJob, Reference
from chancy.cli.main import cli
from chancy.cli.push import report_one
from chancy.worker import Worker
from tests.cli.conftest import AppModule, invoke, one_line_error, run

GOOD_ID = "0190b3c6-9f5e-7c3a-8b1d-2f4e6a8c0d12"


def _push(app: Chancy, *jobs: Job) -> list[str]:
    async def go() -> list[str]:
        async with app:
            return [str((await app.push(job)).identifier) for job in jobs]

    return asyncio.run(go())


def test_list_filters_and_json(app_module: AppModule) -> None:
    run("--app", app_module.path, "misc", "migrate")
    app: Chancy = app_module.module().app
    ids = _push(
        app,
        Job(func="os.getcwd", queue="a"),
        Job(func="os.getpid", queue="a"),
        Job(func="os.getcwd", queue="b"),
    )
    run("--app", app_module.path, "job", "cancel", ids[0])
    listed = json.loads(run("--app", app_module.path, "job", "list", "--json"))
    assert [j["id"] for j in listed] == ids[::-1]  # newest first

    def by(*options: str) -> list[str]:
        out = run("--app", app_module.path, "job", "list", "--json", *options)
        return [j["id"] for j in json.loads(out)]

    assert by("--queue", "a") == [ids[1], ids[0]]
    assert by("--func", "os.getcwd") == [ids[2], ids[0]]
    assert by("--state", "failed") == [ids[0]]
    assert by("--state", "failed", "--state", "pending", "-q", "b") == [ids[2]]
    assert by("--limit", "1") == [ids[2]]
    table = run("--app", app_module.path, "job", "list")
    assert table.splitlines()[0].split()[:4] == ["ID", "QUEUE", "FUNCTION", "STATE"]
    assert all(i in table for i in ids)
    assert invoke("--app", app_module.path, "job", "list", "--state", "nosuch").exit_code == 2
    assert "No jobs match." in invoke("--app", app_module.path, "job", "list", "-q", "zz").stderr


def test_get_shows_fields_and_errors(app_module: AppModule) -> None:
    run("--app", app_module.path, "misc", "migrate")
    (ident,) = _push(app_module.module().app, Job(func="os.getcwd", kwargs={"x": 1}))
    assert f"Cancelled {ident}" in run("--app", app_module.path, "job", "cancel", ident)
    out = run("--app", app_module.path, "job", "get", ident)
    assert "State" in out and "failed" in out and '{"x":1}' in out
    assert "--- Attempt 0 error" in out and "cancelled by Chancy.cancel_job()" in out
    data = json.loads(run("--app", app_module.path, "job", "get", ident, "--json"))
    assert data["id"] == ident and data["state"] == "failed" and len(data["errors"]) == 1


def test_bad_and_missing_job_ids(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    bad = invoke("--app", app_path, "job", "get", "not-a-uuid")
    assert bad.exit_code == 2 and "'not-a-uuid' is not a job id" in bad.output
    assert one_line_error(invoke("--app", app_path, "job", "get", GOOD_ID)) == (
        f"Error: Job {GOOD_ID} not found."
    )
    for command in ("retry", "cancel", "delete"):
        result = invoke("--app", app_path, "job", command, GOOD_ID)
        assert result.exit_code == 1
        assert f"Skipped {GOOD_ID}" in result.stderr and "1 of 1 job(s) skipped" in result.stderr
        assert invoke("--app", app_path, "job", command, "xyz").exit_code == 2
        assert invoke("--app", app_path, "job", command).exit_code == 2


def test_retry_cancel_delete(app_module: AppModule) -> None:
    run("--app", app_module.path, "misc", "migrate")
    a, b = _push(app_module.module().app, Job(func="os.getcwd"), Job(func="os.getcwd"))
    # Pending jobs cannot be retried (not finished): exit 1, nothing changes.
    result = invoke("--app", app_module.path, "job", "retry", a)
    assert result.exit_code == 1 and "not finished yet" in result.stderr
    out = run("--app", app_module.path, "job", "cancel", a, b)
    assert f"Cancelled {a}" in out and f"Cancelled {b}" in out
    assert invoke("--app", app_module.path, "job", "cancel", a).exit_code == 1
    assert f"Retrying {a}" in run("--app", app_module.path, "job", "retry", a)
    got = json.loads(run("--app", app_module.path, "job", "get", a, "--json"))
    assert got["state"] == "retrying" and got["attempts"] == 0
    mixed = invoke("--app", app_module.path, "job", "delete", a, GOOD_ID)
    assert mixed.exit_code == 1 and f"Deleted {a}" in mixed.stdout
    assert [
        j["id"] for j in json.loads(run("--app", app_module.path, "job", "list", "--json"))
    ] == [b]


async def _with_worker(app_module: AppModule, dsn: str, *args: str) -> tuple[int, str, str]:
    """Run ``chancy ARGS`` in a thread while a worker of another app object serves."""
    module = app_module.module()
    worker_app = Chancy(dsn, prefix=module.app.prefix, no_default_plugins=True)
    async with worker_app:
        await worker_app.declare(Queue("default", executor=Chancy.Executor.Threaded))
        async with Worker(worker_app, register_signal_handlers=False):
            result = await asyncio.to_thread(
                CliRunner().invoke, cli, ["--app", app_module.path, *args]
            )
    return result.exit_code, result.stdout, result.stderr


async def test_push_wait_prints_the_result(app_module: AppModule, dsn: str) -> None:
    await asyncio.to_thread(run, "--app", app_module.path, "misc", "migrate")
    code, out, err = await _with_worker(
        app_module,
        dsn,
        "queue",
        "push",
        "tests.cli.cli_jobs.add",
        "-k",
        '{"a": 2, "b": 3}',
        "--wait",
        "--interval",
        "0.1",
        "--timeout",
        "60",
    )
    assert code == 0, err
    assert "succeeded" in err
    stores_results = "result" in {f.name for f in dataclasses.fields(QueuedJob)}
    assert out.strip() == ("5" if stores_results else "")


async def test_push_wait_on_a_failing_job_exits_1(app_module: AppModule, dsn: str) -> None:
    await asyncio.to_thread(run, "--app", app_module.path, "misc", "migrate")
    code, out, err = await _with_worker(
        app_module,
        dsn,
        "queue",
        "push",
        "tests.cli.cli_jobs.boom",
        "--wait",
        "--interval",
        "0.1",
        "--timeout",
        "60",
    )
    assert code == 1
    assert "failed: ValueError: boom: this job always fails" in err


async def test_push_wait_for_a_file_of_jobs(
    app_module: AppModule, dsn: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(run, "--app", app_module.path, "misc", "migrate")
    source = tmp_path / "jobs.jsonl"
    source.write_text("".join(json.dumps({"kwargs": {"a": i, "b": i}}) + "\n" for i in range(20)))
    code, out, err = await _with_worker(
        app_module,
        dsn,
        "queue",
        "push",
        "tests.cli.cli_jobs.add",
        "-f",
        str(source),
        "--wait",
        "--interval",
        "0.1",
        "--timeout",
        "60",
        "--json",
    )
    assert code == 0, err
    finished = json.loads(out)
    assert len(finished) == 20 and {j["state"] for j in finished} == {"succeeded"}
    assert all(not key.startswith("_") for key in finished[0])
    if "result" in finished[0]:  # stored results (issue 12)
        assert sorted(j["result"] for j in finished) == [2 * i for i in range(20)]
        shown = await asyncio.to_thread(
            run, "--app", app_module.path, "job", "get", finished[0]["id"]
        )
        assert f"Result        {finished[0]['result']}" in shown
    assert "20 succeeded, 0 failed." in err


def test_push_wait_times_out_with_one_line(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    result = invoke(
        "--app",
        app_path,
        "queue",
        "push",
        "os.getcwd",
        "--wait",
        "--timeout",
        "0.3",
        "--interval",
        "0.1",
    )
    assert "Still not finished after 0.3 s" in one_line_error(result)


def test_wait_reports_a_deleted_job() -> None:
    with pytest.raises(click.ClickException, match="deleted before it finished"):
        report_one(None, Reference(GOOD_ID), as_json=False)
