"""The WorkflowPlugin: runs DAGs of jobs, each step once its dependencies succeeded.

Pushing a workflow writes it and its steps and pushes the steps without dependencies, all
in the caller's transaction. From then on a workflow advances whenever one of its step
jobs finishes: the worker that saved the job's outcome (``worker.jobs.updated``) processes
that workflow within milliseconds. Re-pushes and ``workflow.created`` notifications are
handled the same way, and the leader sweeps every active workflow each
``polling_interval`` seconds as a fallback (for jobs finished by a cancel, recovery, or a
worker without this plugin).

A processing pass locks its workflows with ``FOR UPDATE SKIP LOCKED``, so workers never
wait on each other; a workflow skipped because another worker held it is retried shortly
after, since that worker may have read the steps before the newest outcome committed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, ClassVar

from chancy.app.core import AsyncConnectionLike
from chancy.errors import ConfigurationError
from chancy.hub import Event
from chancy.job import Job, QueuedJob
from chancy.plugin import Plugin
from chancy.plugins.workflow import statements as wf_sql
from chancy.plugins.workflow.model import Workflow, WorkflowStep
from chancy.plugins.workflow.models import WorkflowModels, build_workflow_models
from chancy.plugins.workflow.planning import StepRow, plan, step_state
from chancy.rule import JobRules, Rule, SQLAble
from chancy.utils import json_dumps

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.worker import Worker

__all__ = ["WorkflowPlugin"]

FINISHED_JOB_STATES = frozenset({QueuedJob.State.SUCCEEDED, QueuedJob.State.FAILED})
#: Workflows processed per transaction.
CHUNK = 100
#: How often (and how long apart) a workflow locked by another worker is retried.
LOCKED_RETRIES = 20
LOCKED_RETRY_DELAY = 0.1


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class _Rules:
    """Rules over the workflows table, for ``pruning_rule``."""

    class Age(JobRules.Age):
        """Seconds since the workflow was created (by the database clock)."""

    class Name(Rule):
        def __init__(self) -> None:
            super().__init__("name")

    class State(Rule):
        def __init__(self) -> None:
            super().__init__("state")


class WorkflowPlugin(Plugin):
    """Run :class:`~chancy.plugins.workflow.Workflow` DAGs. Needs a leadership plugin.

    ``polling_interval``: seconds between the leader's sweeps of active workflows (the
    fallback; steps normally advance as soon as their dependencies finish).
    ``max_workflows_per_run``: workflows per sweep page. ``pruning_rule``: which finished
    workflows :meth:`cleanup` (called by the Pruner) deletes; ``None`` deletes none.
    """

    migrations_branch = "workflow"
    Rules: ClassVar[type[_Rules]] = _Rules

    def __init__(
        self,
        *,
        polling_interval: float = 30,
        max_workflows_per_run: int = 1000,
        pruning_rule: SQLAble | None = _Rules.Age() > 60 * 60 * 24,
    ) -> None:
        super().__init__()
        if isinstance(polling_interval, bool) or not isinstance(polling_interval, int | float):
            raise ConfigurationError("WorkflowPlugin: polling_interval must be a number.")
        if polling_interval <= 0:
            raise ConfigurationError("WorkflowPlugin: polling_interval must be positive.")
        if not isinstance(max_workflows_per_run, int) or max_workflows_per_run < 1:
            raise ConfigurationError("WorkflowPlugin: max_workflows_per_run must be >= 1.")
        self.polling_interval = polling_interval
        self.max_workflows_per_run = max_workflows_per_run
        self.pruning_rule = pruning_rule
        #: Workflow id -> attempts so far, waiting for the next pass.
        self._pending: dict[uuid.UUID, int] = {}
        self._sweep_after: uuid.UUID | None = None

    @staticmethod
    def get_identifier() -> str:
        return "chancy.workflow_plugin"

    @staticmethod
    def get_dependencies() -> list[str]:
        return ["chancy.leadership"]

    def get_tables(self) -> list[str]:
        return ["workflows", "workflow_steps"]

    def api_plugin(self) -> str | None:
        return "chancy.plugins.workflow.api.WorkflowApiPlugin"

    # -- pushing ------------------------------------------------------------------------
    @staticmethod
    async def push(chancy: Chancy, workflow: Workflow) -> uuid.UUID:
        """Validate and save ``workflow`` in its own transaction; returns its id.

        Steps without dependencies are pushed at once. Raises
        :class:`~chancy.plugins.workflow.EmptyWorkflowError`,
        :class:`~chancy.plugins.workflow.InvalidDependencyError` or
        :class:`~chancy.plugins.workflow.CircularDependencyError` before writing anything.
        """
        return await chancy.in_transaction(WorkflowPlugin.push_ex, chancy, workflow)

    @staticmethod
    async def push_ex(cursor: AsyncConnectionLike, chancy: Chancy, workflow: Workflow) -> uuid.UUID:
        """Like :meth:`push`, inside the caller's transaction (an AsyncSession,
        AsyncConnection, or psycopg AsyncConnection/AsyncCursor), which it never
        commits: the workflow and its first jobs appear when you commit and vanish if
        you roll back.

        Sets ``workflow.created_at`` and ``updated_at``. Pushing a saved workflow again
        updates its name and steps; steps whose job was already pushed keep that job.
        """
        workflow.validate()
        cursor = chancy._executable(cursor)  # a psycopg connection or cursor works too
        wm = build_workflow_models(chancy.models)
        row = (
            await cursor.execute(
                wf_sql.build_upsert_workflow(wm),
                {
                    "wf_id": workflow.id,
                    "wf_name": workflow.name,
                    "wf_state": Workflow.State(workflow.state).value,
                },
            )
        ).one()
        steps = sorted(workflow.steps.values(), key=lambda s: s.step_id)
        await cursor.execute(
            wf_sql.build_upsert_steps(wm),
            {
                "st_workflow_id": workflow.id,
                "st_step_ids": [s.step_id for s in steps],
                "st_jobs": [json_dumps(s.job.pack()) for s in steps],
                "st_dependencies": [json_dumps(list(s.dependencies)) for s in steps],
                "st_job_ids": [s.job_id for s in steps],
            },
        )
        workflow.created_at, workflow.updated_at = row.created_at, row.updated_at
        await WorkflowPlugin._process_locked(cursor, chancy, wm, [workflow.id])
        event = "workflow.created" if row.inserted else "workflow.updated"
        await chancy.notify(cursor, event, {"id": str(workflow.id), "name": workflow.name})
        return workflow.id

    # -- reading ------------------------------------------------------------------------
    @staticmethod
    async def get_workflow(chancy: Chancy, workflow_id: uuid.UUID | str) -> Workflow | None:
        """The workflow with its steps (each step's state from its job), or None."""
        found = await WorkflowPlugin.get_workflows(chancy, ids=[workflow_id])
        return found[0] if found else None

    @staticmethod
    async def get_workflows(
        chancy: Chancy,
        *,
        states: list[Workflow.State | str] | None = None,
        ids: list[uuid.UUID | str] | None = None,
        limit: int = 100,
    ) -> list[Workflow]:
        """Workflows, newest first, optionally filtered by state and id."""
        wm = build_workflow_models(chancy.models)
        stmt = wf_sql.build_get_workflows(
            wm,
            ids=None if ids is None else [_as_uuid(i) for i in ids],
            states=None if states is None else [Workflow.State(s).value for s in states],
            limit=limit,
        )
        async with chancy.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
            if not rows:
                return []
            step_rows = (await conn.execute(wf_sql.build_steps(wm, [r.id for r in rows]))).all()
        workflows = {
            row.id: Workflow(
                name=row.name,
                state=Workflow.State(row.state),
                id=row.id,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
            for row in rows
        }
        for raw in step_rows:
            step = StepRow.from_row(raw)
            state = step_state(step)
            workflows[step.workflow_id] += WorkflowStep(
                job=Job.unpack(step.job_data),
                step_id=step.step_id,
                dependencies=list(step.dependencies),
                state=QueuedJob.State(state) if state else None,
                job_id=step.job_id,
            )
        return list(workflows.values())

    fetch_workflow = get_workflow
    fetch_workflows = get_workflows

    @staticmethod
    async def wait_for_workflow(
        chancy: Chancy,
        workflow_id: uuid.UUID | str,
        *,
        interval: float = 1,
        timeout: float | None = None,
    ) -> Workflow:
        """Poll until the workflow completes or fails; returns it.

        Raises KeyError if it does not exist and TimeoutError after ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while True:
                workflow = await WorkflowPlugin.get_workflow(chancy, workflow_id)
                if workflow is None:
                    raise KeyError(f"No workflow with id {workflow_id}.")
                if workflow.is_complete:
                    return workflow
                await asyncio.sleep(interval)

    # -- processing ---------------------------------------------------------------------
    @staticmethod
    async def _process_locked(
        cursor: AsyncConnectionLike, chancy: Chancy, wm: WorkflowModels, ids: list[uuid.UUID]
    ) -> set[uuid.UUID]:
        """One pass over the active, unlocked workflows among ``ids``; returns those locked."""
        rows = (await cursor.execute(wf_sql.build_lock_active(wm, ids))).all()
        if not rows:
            return set()
        current = {row.id: row.state for row in rows}
        steps = [
            StepRow.from_row(r)
            for r in (await cursor.execute(wf_sql.build_steps(wm, list(current)))).all()
        ]
        decided = plan(current, steps)
        updates = dict(decided.step_updates)
        if decided.to_push:
            refs = await chancy.push_many_ex(cursor, [job for _, job in decided.to_push])
            for (step, _), ref in zip(decided.to_push, refs, strict=True):
                updates[step.id] = (ref.identifier, "pending")
        if updates:
            await cursor.execute(
                wf_sql.build_update_steps(wm),
                {
                    "up_ids": list(updates),
                    "up_job_ids": [job_id for job_id, _ in updates.values()],
                    "up_states": [state for _, state in updates.values()],
                },
            )
        if decided.workflow_states:
            changed = decided.workflow_states
            await cursor.execute(
                wf_sql.build_update_workflows(wm),
                {"wf_ids": list(changed), "wf_states": list(changed.values())},
            )
            await chancy.notify_many(
                cursor,
                [
                    ("workflow.state_changed", {"id": str(i), "state": s})
                    for i, s in changed.items()
                ],
            )
        return set(current)

    async def process_workflows(self, chancy: Chancy, ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Advance these workflows now; returns the ids another worker held locked.

        Each chunk of workflows is one transaction.
        """
        wm = build_workflow_models(chancy.models)
        held: set[uuid.UUID] = set()
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), CHUNK):
            chunk = ordered[start : start + CHUNK]
            async with chancy.engine.begin() as conn:
                done = await self._process_locked(conn, chancy, wm, chunk)
                skipped = [i for i in chunk if i not in done]
                if skipped:
                    active = await conn.execute(wf_sql.build_active_among(wm, skipped))
                    held |= {row.id for row in active}
        return held

    async def sweep(self, chancy: Chancy) -> int:
        """Process the next page of active workflows (the leader's fallback poll)."""
        wm = build_workflow_models(chancy.models)
        stmt = wf_sql.build_active_page(wm, self._sweep_after, self.max_workflows_per_run)
        async with chancy.engine.connect() as conn:
            ids = list((await conn.execute(stmt)).scalars())
        self._sweep_after = ids[-1] if len(ids) == self.max_workflows_per_run else None
        if ids:
            await self.process_workflows(chancy, ids)
        return len(ids)

    def enqueue(self, workflow_id: uuid.UUID | str) -> None:
        """Ask the running loop to process a workflow soon."""
        try:
            wid = _as_uuid(workflow_id)
        except ValueError:
            return
        self._pending.setdefault(wid, 0)
        self.wake_up()

    async def on_worker_started(self, *, worker: Worker) -> None:
        def on_jobs_updated(event: Event) -> None:
            for job in event.body["jobs"]:
                if job.state in FINISHED_JOB_STATES and job.meta:
                    wid = job.meta.get("workflow_id")
                    if wid:
                        self.enqueue(wid)

        def on_workflow_event(event: Event) -> None:
            if event.body.get("id"):
                self.enqueue(event.body["id"])

        worker.hub.on("worker.jobs.updated", on_jobs_updated)
        worker.hub.on("workflow.created", on_workflow_event)
        worker.hub.on("workflow.updated", on_workflow_event)

    async def run(self, worker: Worker, chancy: Chancy) -> None:
        next_sweep = time.monotonic()
        while True:
            if worker.is_leader.is_set() and time.monotonic() >= next_sweep:
                try:
                    await self.sweep(chancy)
                except Exception:
                    worker.log.exception("WorkflowPlugin: the sweep failed; will retry.")
                next_sweep = time.monotonic() + self.polling_interval
            if self._pending:
                await self._drain_pending(worker, chancy)
            if self._pending:
                delay = LOCKED_RETRY_DELAY
            elif worker.is_leader.is_set():
                delay = max(next_sweep - time.monotonic(), 0)
            else:
                delay = self.polling_interval
            await self.sleep(delay)

    async def _drain_pending(self, worker: Worker, chancy: Chancy) -> None:
        batch, self._pending = self._pending, {}
        try:
            held = await self.process_workflows(chancy, list(batch))
        except Exception:
            worker.log.exception("WorkflowPlugin: processing failed; will retry.")
            held = set(batch)
        for wid in held:
            tries = batch.get(wid, 0) + 1
            if tries < LOCKED_RETRIES:
                self._pending[wid] = max(self._pending.get(wid, 0), tries)

    # -- pruning ------------------------------------------------------------------------
    async def cleanup(self, chancy: Chancy) -> int | None:
        """Delete finished workflows matching ``pruning_rule``; returns how many."""
        if self.pruning_rule is None:
            return None
        wm = build_workflow_models(chancy.models)
        async with chancy.engine.begin() as conn:
            result = await conn.execute(wf_sql.build_prune(wm, self.pruning_rule))
        return result.rowcount or None
