"""One processing pass over locked workflows, as pure decisions (no I/O).

Given the workflows' current states and their step rows (with each job's live state),
:func:`plan` says which steps' jobs to push now, which cached step states to write back,
and which workflows change state. The plugin then applies the plan in a few set-based
statements, whatever the number of workflows.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from chancy.job import Job

__all__ = ["Plan", "StepRow", "plan", "step_state"]

SUCCEEDED = "succeeded"
FAILED = "failed"
FINISHED = (SUCCEEDED, FAILED)


@dataclasses.dataclass(frozen=True)
class StepRow:
    """A step as read by :func:`chancy.plugins.workflow.statements.build_steps`."""

    id: int
    workflow_id: uuid.UUID
    step_id: str
    job_data: dict[str, Any]
    dependencies: list[str]
    job_id: uuid.UUID | None
    state: str | None
    job_state: str | None

    @classmethod
    def from_row(cls, row: Any) -> StepRow:
        return cls(**{f.name: getattr(row, f.name) for f in dataclasses.fields(cls)})


@dataclasses.dataclass
class Plan:
    #: Steps to push now, each with the job to push (meta already carries the ids).
    to_push: list[tuple[StepRow, Job]] = dataclasses.field(default_factory=list)
    #: Step row id -> (job id, state) to store.
    step_updates: dict[int, tuple[uuid.UUID | None, str | None]] = dataclasses.field(
        default_factory=dict
    )
    #: Workflow id -> its new state, only where it changes.
    workflow_states: dict[uuid.UUID, str] = dataclasses.field(default_factory=dict)


def step_state(step: StepRow) -> str | None:
    """The step's effective state: its job's live state, else the last one recorded.

    A pushed step whose job row vanished before it finished (purged, or deleted by hand)
    counts as failed: it can never succeed, and waiting for it would stall the workflow.
    """
    if step.job_id is None:
        return None
    if step.job_state is not None:
        return step.job_state
    if step.state in FINISHED:
        return step.state
    return FAILED


def plan(workflows: dict[uuid.UUID, str], steps: list[StepRow]) -> Plan:
    """Decide the next moves of ``workflows`` (id -> current state) from their ``steps``."""
    result = Plan()
    by_workflow: dict[uuid.UUID, list[StepRow]] = {wid: [] for wid in workflows}
    for step in steps:
        by_workflow.setdefault(step.workflow_id, []).append(step)
    for wid, current in workflows.items():
        rows = by_workflow.get(wid, [])
        states = {}
        for step in rows:
            state = states[step.step_id] = step_state(step)
            if step.job_id is not None and state != step.state:
                result.step_updates[step.id] = (step.job_id, state)
        failed = any(s == FAILED for s in states.values())
        pushed = 0
        if not failed:
            for step in rows:
                if step.job_id is not None:
                    continue
                # A dependency missing from the workflow never succeeds: the step waits,
                # and validation on push keeps that from happening.
                if all(states.get(dep) == SUCCEEDED for dep in step.dependencies):
                    job = Job.unpack(step.job_data)
                    meta = {**job.meta, "workflow_id": str(wid), "step_id": step.step_id}
                    result.to_push.append((step, job.with_meta(meta)))
                    pushed += 1
        if failed:
            new = "failed"
        elif rows and all(s == SUCCEEDED for s in states.values()):
            new = "completed"
        elif pushed or any(s is not None for s in states.values()):
            new = "running"
        else:
            new = "pending"
        if new != current:
            result.workflow_states[wid] = new
    return result
