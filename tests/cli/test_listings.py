"""``worker list``, ``cron list`` and ``workflow list|get``."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from chancy import Chancy, Job
from chancy.cli.main import cli
from chancy.plugins.cron import Cron
from chancy.plugins.workflow import Workflow, WorkflowPlugin
from chancy.worker import Worker
from tests.cli.conftest import AppModule, invoke, one_line_error, run


async def test_worker_list(app_module: AppModule, dsn: str) -> None:
    await asyncio.to_thread(run, "--app", app_module.path, "misc", "migrate")
    empty = await asyncio.to_thread(invoke, "--app", app_module.path, "worker", "list", "--json")
    assert json.loads(empty.stdout) == []
    other = Chancy(dsn, prefix=app_module.module().app.prefix, no_default_plugins=True)
    async with (
        other,
        Worker(other, worker_id="w-cli-test", tags={"gpu"}, register_signal_handlers=False),
    ):
        # The worker registers before start returns, so it is listed at once.
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, ["--app", app_module.path, "worker", "list", "--json"]
        )
        listed = json.loads(result.stdout)
        table = await asyncio.to_thread(run, "--app", app_module.path, "worker", "list")
    assert [w["worker_id"] for w in listed] == ["w-cli-test"]
    assert "gpu" in listed[0]["tags"] and listed[0]["is_leader"] is False
    assert "w-cli-test" in table and table.startswith("WORKER")


def test_cron_list(app_module: AppModule) -> None:
    run("--app", app_module.full, "misc", "migrate")
    full: Chancy = app_module.module().full

    async def schedule() -> None:
        async with full:
            job = Job(func="os.getcwd", queue="reports", unique_key="nightly")
            await Cron.schedule(full, "0 3 * * *", job, timezone="Europe/Paris")

    asyncio.run(schedule())
    (listed,) = json.loads(run("--app", app_module.full, "cron", "list", "--json"))
    assert listed["unique_key"] == "nightly" and listed["cron"] == "0 3 * * *"
    assert listed["timezone"] == "Europe/Paris" and listed["func"] == "os.getcwd"
    assert listed["next_run"] and listed["last_run"] is None
    table = run("--app", app_module.full, "cron", "list")
    assert "nightly" in table and "0 3 * * *" in table


def test_cron_list_needs_the_cron_tables(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    line = one_line_error(invoke("--app", app_path, "cron", "list"))
    assert "Cron plugin's tables are not migrated" in line and "--plugin cron" in line


def test_workflow_list_and_get(app_module: AppModule) -> None:
    run("--app", app_module.full, "misc", "migrate")
    full: Chancy = app_module.module().full
    workflow = (
        Workflow("report")
        .add("fetch", Job(func="os.getcwd"))
        .add("publish", Job(func="os.getpid"), dependencies=["fetch"])
    )

    async def push() -> None:
        async with full:
            await WorkflowPlugin.push(full, workflow)

    asyncio.run(push())
    (listed,) = json.loads(run("--app", app_module.full, "workflow", "list", "--json"))
    assert listed["id"] == str(workflow.id) and listed["name"] == "report"
    assert listed["progress"] == "0/2" and len(listed["steps"]) == 2
    assert (
        json.loads(run("--app", app_module.full, "workflow", "list", "-s", "failed", "--json"))
        == []
    )
    got = json.loads(run("--app", app_module.full, "workflow", "get", str(workflow.id), "--json"))
    steps = {s["step_id"]: s for s in got["steps"]}
    assert steps["publish"]["dependencies"] == ["fetch"] and steps["publish"]["state"] is None
    text = run("--app", app_module.full, "workflow", "get", str(workflow.id))
    assert "report" in text and "STEP" in text and "waiting" in text
    missing = "0190b3c6-9f5e-7c3a-8b1d-2f4e6a8c0d12"
    line = one_line_error(invoke("--app", app_module.full, "workflow", "get", missing))
    assert line == f"Error: Workflow {missing} not found."
    assert invoke("--app", app_module.full, "workflow", "get", "nope").exit_code == 2


def test_workflow_commands_need_the_workflow_tables(app_path: str) -> None:
    run("--app", app_path, "misc", "migrate")
    line = one_line_error(invoke("--app", app_path, "workflow", "list"))
    assert "--plugin workflow" in line


def test_worker_web_is_registered() -> None:
    out = run("worker", "web", "--help")
    assert "--port" in out and "--allow-origin" in out
