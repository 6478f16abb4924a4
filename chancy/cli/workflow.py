"""``chancy workflow``: the Workflow plugin's workflows and their steps."""

from __future__ import annotations

import uuid
from typing import Any

import click

from chancy.app import Chancy
from chancy.cli.common import WORKFLOW_ID, json_option, require_branch, run_app
from chancy.cli.output import Column, ago, emit_listing, emit_record
from chancy.plugins.workflow import Workflow, WorkflowPlugin

__all__ = ["workflow"]

WORKFLOW_COLUMNS = [
    Column("id", "Id"),
    Column("name", "Name"),
    Column("state", "State"),
    Column("progress", "Steps done"),
    Column("created_at", "Created", ago),
    Column("updated_at", "Updated", ago),
]

STEP_COLUMNS = [
    Column("step_id", "Step"),
    Column("func", "Function"),
    Column("state", "State", lambda v: v or "waiting"),
    Column("dependencies", "Depends on"),
    Column("job_id", "Job id"),
]


def workflow_record(wf: Workflow) -> dict[str, Any]:
    """A workflow and its steps as JSON-ready values."""
    steps = [
        {
            "step_id": step_id,
            "func": step.job.func,
            "state": step.state.value if step.state else None,
            "dependencies": step.dependencies,
            "job_id": step.job_id,
        }
        for step_id, step in wf
    ]
    done = sum(1 for s in steps if s["state"] == "succeeded")
    return {
        "id": wf.id,
        "name": wf.name,
        "state": wf.state.value,
        "progress": f"{done}/{len(steps)}",
        "created_at": wf.created_at,
        "updated_at": wf.updated_at,
        "steps": steps,
    }


@click.group()
def workflow() -> None:
    """Workflows (the Workflow plugin)."""


@workflow.command("list")
@click.option(
    "--state",
    "-s",
    "states",
    multiple=True,
    type=click.Choice([s.value for s in Workflow.State]),
    help="Only workflows in this state (repeatable).",
)
@click.option(
    "--limit", "-n", type=click.IntRange(min=1), default=50, show_default=True, help="At most."
)
@json_option
@run_app
async def list_workflows(app: Chancy, states: tuple[str, ...], limit: int, as_json: bool) -> None:
    """List workflows, newest first."""
    await require_branch(app, "workflow", "Workflow")
    found = await WorkflowPlugin.get_workflows(app, states=list(states) or None, limit=limit)
    records = [workflow_record(wf) for wf in found]
    emit_listing(records, WORKFLOW_COLUMNS, as_json=as_json, empty="No workflows.")


@workflow.command()
@click.argument("workflow_id", type=WORKFLOW_ID)
@json_option
@run_app
async def get(app: Chancy, workflow_id: uuid.UUID, as_json: bool) -> None:
    """Show one workflow and the state of each of its steps."""
    await require_branch(app, "workflow", "Workflow")
    found = await WorkflowPlugin.get_workflow(app, workflow_id)
    if found is None:
        raise click.ClickException(f"Workflow {workflow_id} not found.")
    record = workflow_record(found)
    if as_json:
        emit_record(record, [], as_json=True)
        return
    emit_record(record, WORKFLOW_COLUMNS, as_json=False, title=f"Workflow {found.name}")
    click.echo()
    emit_listing(record["steps"], STEP_COLUMNS, as_json=False, empty="No steps.")
