"""Workflow values: steps and workflows, their validation and DOT rendering. No I/O."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import Iterator
from typing import Any, TextIO

from chancy.errors import ConfigurationError
from chancy.job import IsAJob, Job, QueuedJob, as_job
from chancy.utils import chancy_uuid

__all__ = [
    "CircularDependencyError",
    "EmptyWorkflowError",
    "InvalidDependencyError",
    "Workflow",
    "WorkflowError",
    "WorkflowStep",
    "generate_dot",
]

JobLike = Job | IsAJob[Any]


class WorkflowError(ConfigurationError):
    """A workflow that cannot be pushed; raised before anything is written."""


class EmptyWorkflowError(WorkflowError):
    """The workflow has no steps."""


class InvalidDependencyError(WorkflowError):
    """A step depends on a step id that is not in the workflow."""


class CircularDependencyError(WorkflowError):
    """Steps depend on each other in a cycle, so none of them could ever start."""


@dataclasses.dataclass
class WorkflowStep:
    """One step: a job that is pushed once every step in ``dependencies`` succeeded.

    ``state`` and ``job_id`` are filled in when read back from the database; ``state`` is
    None until the step's job has been pushed.
    """

    job: Job
    step_id: str
    dependencies: list[str] = dataclasses.field(default_factory=list)
    state: QueuedJob.State | None = None
    job_id: uuid.UUID | None = None


@dataclasses.dataclass
class Workflow:
    """A named DAG of steps, pushed with :meth:`WorkflowPlugin.push`::

        wf = (
            Workflow("report")
            .add("fetch", fetch_job)
            .add_group([("parse_a", parse_a), ("parse_b", parse_b)], dependencies=["fetch"])
            .add("publish", publish_job, dependencies=["parse_a", "parse_b"])
        )

    The id is made on the client, so pushing the same object again updates it. Jobs of
    steps carry ``meta["workflow_id"]`` and ``meta["step_id"]``.
    """

    class State(enum.StrEnum):
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    name: str
    steps: dict[str, WorkflowStep] = dataclasses.field(default_factory=dict)
    state: Workflow.State = State.PENDING
    id: uuid.UUID = dataclasses.field(default_factory=chancy_uuid)
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None

    def add(self, step_id: str, job: JobLike, dependencies: list[str] | None = None) -> Workflow:
        """Add (or replace) a step; returns the workflow so calls chain."""
        if not isinstance(step_id, str) or not step_id:
            raise ConfigurationError(f"A step id must be a non-empty string, got {step_id!r}.")
        deps = list(dependencies or [])
        if not all(isinstance(d, str) for d in deps):
            raise ConfigurationError(
                f"Step {step_id!r}: dependencies must be step ids (strings), got {deps!r}."
            )
        self.steps[step_id] = WorkflowStep(job=as_job(job), step_id=step_id, dependencies=deps)
        return self

    def add_group(
        self, steps: list[tuple[str, JobLike]], dependencies: list[str] | None = None
    ) -> Workflow:
        """Add several steps sharing the same dependencies (they can run in parallel)."""
        for step_id, job in steps:
            self.add(step_id, job, dependencies)
        return self

    def __iadd__(self, step: WorkflowStep) -> Workflow:
        self.steps[step.step_id] = step
        return self

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[tuple[str, WorkflowStep]]:
        return iter(self.steps.items())

    def __getitem__(self, step_id: str) -> WorkflowStep:
        return self.steps[step_id]

    def __delitem__(self, step_id: str) -> None:
        del self.steps[step_id]

    @property
    def is_complete(self) -> bool:
        """Finished either way: completed or failed."""
        return self.state in (Workflow.State.COMPLETED, Workflow.State.FAILED)

    @property
    def is_running(self) -> bool:
        return self.state == Workflow.State.RUNNING

    @property
    def steps_by_state(self) -> dict[QueuedJob.State | None, list[WorkflowStep]]:
        grouped: dict[QueuedJob.State | None, list[WorkflowStep]] = {}
        for step in self.steps.values():
            grouped.setdefault(step.state, []).append(step)
        return grouped

    def validate(self) -> None:
        """Raise a :class:`WorkflowError` if the workflow could never finish.

        Checks, in order: it has steps; every dependency names a step; there is no cycle
        (a step depending on itself included); and every step's job is valid.
        """
        if not self.steps:
            raise EmptyWorkflowError(f"Workflow {self.name!r} has no steps; add some first.")
        for step_id, step in self.steps.items():
            for dep in step.dependencies:
                if dep not in self.steps:
                    raise InvalidDependencyError(
                        f"Workflow {self.name!r}: step {step_id!r} depends on {dep!r}, which "
                        f"is not a step of this workflow (steps: {sorted(self.steps)})."
                    )
        cycle = find_cycle({sid: s.dependencies for sid, s in self.steps.items()})
        if cycle:
            raise CircularDependencyError(
                f"Workflow {self.name!r} has a dependency cycle: {' -> '.join(cycle)}; "
                "none of these steps could ever start."
            )
        for step in self.steps.values():
            step.job.validate()


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A dependency cycle as a path (first node repeated at the end), or None.

    Iterative depth-first search with three colours, so deep chains cannot hit the
    recursion limit.
    """
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for root in graph:
        if colour[root] != white:
            continue
        colour[root] = grey
        path = [root]
        stack = [iter(graph[root])]
        while stack:
            dep = next(stack[-1], None)
            if dep is None:
                colour[path.pop()] = black
                stack.pop()
                continue
            if colour.get(dep, black) == grey:
                return [*path[path.index(dep) :], dep]
            if colour.get(dep) == white:
                colour[dep] = grey
                path.append(dep)
                stack.append(iter(graph[dep]))
    return None


_COLOURS = {
    QueuedJob.State.PENDING: "lightblue",
    QueuedJob.State.RETRYING: "lightblue",
    QueuedJob.State.RUNNING: "yellow",
    QueuedJob.State.SUCCEEDED: "lightgreen",
    QueuedJob.State.FAILED: "lightpink",
}


def generate_dot(workflow: Workflow, output: TextIO) -> None:
    """Write the workflow as a Graphviz DOT graph, steps coloured by state."""

    def escaped(text: str) -> str:
        return text.replace("\\", "\\\\").replace('"', '\\"')

    def quoted(text: str) -> str:
        return f'"{escaped(text)}"'

    output.write(f"digraph {quoted(workflow.name)} {{\n  rankdir=TB;\n")
    output.write("  node [shape=box, style=filled];\n")
    for step_id, step in workflow.steps.items():
        colour = _COLOURS.get(step.state, "lightgray") if step.state else "lightgray"
        label = f'"{escaped(step_id)}\\n{escaped(step.job.func)}"'
        output.write(f"  {quoted(step_id)} [label={label}, fillcolor={colour}];\n")
    for step_id, step in workflow.steps.items():
        for dep in step.dependencies:
            output.write(f"  {quoted(dep)} -> {quoted(step_id)};\n")
    output.write("}\n")
