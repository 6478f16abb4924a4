"""WorkflowPlugin: validation, dependency order, failure blocking, the sweep, migrations.

Step jobs write when they started and ended to a side table, so ordering is checked on
what really ran. Workers are observed through the database (``wait_for_workflow``), never
by sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from chancy import Chancy, Job, Queue
from chancy.errors import MigrationsNeededError
from chancy.job import Reference
from chancy.plugin import Plugin
from chancy.plugins.workflow import (
    CircularDependencyError,
    EmptyWorkflowError,
    InvalidDependencyError,
    Sequence,
    Workflow,
    WorkflowPlugin,
    generate_dot,
)
from chancy.plugins.workflow.model import find_cycle
from chancy.plugins.workflow.planning import StepRow, plan
from chancy.testing import isolated_chancy
from chancy.worker import Worker
from tests.conftest import DSN
from tests.plugins.branch_schema import diff_against, table_stems
from tests.prefix_pool import pooled_chancy

HERE = "tests.plugins.test_workflow"
ASYNC = Chancy.Executor.Async


# -- jobs the workers run ---------------------------------------------------------------
async def record_step(table: str, step: str, seconds: float = 0.02, fail: bool = False) -> str:
    """Run for ``seconds``, then log (step, started, ended) to ``table``."""
    started = dt.datetime.now(dt.UTC)
    await asyncio.sleep(seconds)
    ended = dt.datetime.now(dt.UTC)
    async with await psycopg.AsyncConnection.connect(DSN, autocommit=True) as conn:
        await conn.execute(
            sql.SQL("INSERT INTO {} (step, started, ended) VALUES (%s, %s, %s)").format(
                sql.Identifier(table)
            ),
            (step, started, ended),
        )
    if fail:
        raise RuntimeError(f"step {step} failed on purpose")
    return step


def step_job(table: str, step: str, **kwargs: Any) -> Job:
    return Job(func=f"{HERE}.record_step", kwargs={"table": table, "step": step, **kwargs})


# -- fixtures -----------------------------------------------------------------------------
def leadership() -> Plugin:
    """The real ImmediateLeadership when it exists, else an equivalent stand-in."""
    try:
        from chancy.plugins.leadership import ImmediateLeadership
    except ImportError:

        class ImmediateLeadership(Plugin):  # type: ignore[no-redef]
            @staticmethod
            def get_identifier() -> str:
                return "chancy.leadership"

            async def on_worker_started(self, *, worker: Worker) -> None:
                worker.is_leader.set()

    return ImmediateLeadership()


@pytest.fixture
async def app(dsn: str) -> AsyncIterator[Chancy]:
    plugins = [leadership(), WorkflowPlugin()]
    async with pooled_chancy(dsn, plugins=plugins, no_default_plugins=True) as chancy:
        yield chancy


@pytest.fixture
async def side_table(app: Chancy) -> AsyncIterator[str]:
    name = f"{app.prefix}steplog"
    table = sa.Table(
        name,
        sa.MetaData(),
        sa.Column("step", sa.Text),
        sa.Column("started", sa.DateTime(timezone=True)),
        sa.Column("ended", sa.DateTime(timezone=True)),
    )
    async with app.engine.begin() as conn:
        await conn.run_sync(table.create)
    try:
        yield name
    finally:
        async with app.engine.begin() as conn:
            await conn.run_sync(table.drop)


async def step_log(app: Chancy, table: str) -> dict[str, tuple[dt.datetime, dt.datetime]]:
    t = sa.table(table, sa.column("step"), sa.column("started"), sa.column("ended"))
    async with app.engine.connect() as conn:
        rows = (await conn.execute(sa.select(t.c.step, t.c.started, t.c.ended))).all()
    return {row.step: (row.started, row.ended) for row in rows}


@contextlib.asynccontextmanager
async def running(app: Chancy) -> AsyncIterator[Worker]:
    await app.declare(Queue("default", executor=ASYNC, concurrency=10, polling_interval=1))
    worker = Worker(app, register_signal_handlers=False, shutdown_timeout=5)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()


def fan_out(table: str, *, fail_b: bool = False) -> Workflow:
    """A -> B, A -> C, B + C -> D."""
    return (
        Workflow("fan-out")
        .add("A", step_job(table, "A"))
        .add_group(
            [("B", step_job(table, "B", fail=fail_b)), ("C", step_job(table, "C", seconds=0.1))],
            dependencies=["A"],
        )
        .add("D", step_job(table, "D"), dependencies=["B", "C"])
    )


# -- validation ---------------------------------------------------------------------------
def test_validation_errors() -> None:
    with pytest.raises(EmptyWorkflowError):
        Workflow("empty").validate()
    with pytest.raises(InvalidDependencyError, match="'missing'"):
        Workflow("w").add("a", Job(func="m.f"), ["missing"]).validate()
    with pytest.raises(CircularDependencyError, match="a -> b -> a|b -> a -> b"):
        Workflow("w").add("a", Job(func="m.f"), ["b"]).add("b", Job(func="m.f"), ["a"]).validate()
    with pytest.raises(CircularDependencyError):
        Workflow("w").add("a", Job(func="m.f"), ["a"]).validate()
    # A diamond shares dependencies without being a cycle.
    diamond = {"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}
    assert find_cycle(diamond) is None
    assert find_cycle({**diamond, "a": ["d"]}) is not None


async def test_invalid_workflow_writes_nothing(app: Chancy) -> None:
    cyclic = Workflow("w").add("a", Job(func="m.f"), ["b"]).add("b", Job(func="m.f"), ["a"])
    for bad, error in (
        (Workflow("empty"), EmptyWorkflowError),
        (Workflow("w").add("a", Job(func="m.f"), ["nope"]), InvalidDependencyError),
        (cyclic, CircularDependencyError),
    ):
        with pytest.raises(error):
            await WorkflowPlugin.push(app, bad)
    assert await WorkflowPlugin.get_workflows(app) == []


# -- running ------------------------------------------------------------------------------
async def test_fan_out_runs_in_dependency_order(app: Chancy, side_table: str) -> None:
    workflow = fan_out(side_table)
    async with running(app):
        workflow_id = await WorkflowPlugin.push(app, workflow)
        done = await WorkflowPlugin.wait_for_workflow(app, workflow_id, interval=0.05, timeout=15)
    assert done.state == Workflow.State.COMPLETED
    assert {s: step.state for s, step in done} == dict.fromkeys("ABCD", "succeeded")
    log = await step_log(app, side_table)
    assert set(log) == set("ABCD")
    assert log["A"][1] <= log["B"][0] and log["A"][1] <= log["C"][0]
    assert max(log["B"][1], log["C"][1]) <= log["D"][0]
    # Steps advance on the job outcome, not on the leader's 30 s sweep.
    assert log["D"][0] - max(log["B"][1], log["C"][1]) < dt.timedelta(seconds=1.5)
    [job_d] = await app.get_jobs([_ref(done["D"].job_id)])
    assert job_d.meta == {"workflow_id": str(workflow_id), "step_id": "D"}


def _ref(job_id: uuid.UUID | None) -> Reference:
    assert job_id is not None
    return Reference(job_id)


async def test_two_workers_push_every_step_exactly_once(
    app: Chancy, side_table: str, dsn: str
) -> None:
    """Separate processes' plugins race on the same workflow; row locks keep it exact."""
    wide = Workflow("wide").add("root", step_job(side_table, "root"))
    wide.add_group([(f"p{i}", step_job(side_table, f"p{i}")) for i in range(12)], ["root"])
    wide.add("join", step_job(side_table, "join"), [f"p{i}" for i in range(12)])
    other = Chancy(
        dsn, prefix=app.prefix, plugins=[leadership(), WorkflowPlugin()], no_default_plugins=True
    )
    async with other, running(app), running(other):
        workflow_id = await WorkflowPlugin.push(app, wide)
        done = await WorkflowPlugin.wait_for_workflow(app, workflow_id, interval=0.05, timeout=15)
    assert done.state == Workflow.State.COMPLETED
    t = sa.table(side_table, sa.column("step"))
    async with app.engine.connect() as conn:
        runs = (await conn.execute(sa.select(t.c.step))).scalars().all()
    assert sorted(runs) == sorted(["root", "join", *(f"p{i}" for i in range(12))])
    assert len(await app.get_jobs([_ref(step.job_id) for _, step in done])) == 14


async def test_failed_step_blocks_dependents(app: Chancy, side_table: str) -> None:
    async with running(app):
        workflow_id = await WorkflowPlugin.push(app, fan_out(side_table, fail_b=True))
        done = await WorkflowPlugin.wait_for_workflow(app, workflow_id, interval=0.05, timeout=15)
    assert done.state == Workflow.State.FAILED
    assert done["B"].state == "failed"
    assert done["D"].state is None and done["D"].job_id is None
    assert "D" not in await step_log(app, side_table)


async def test_sequence_runs_in_order(app: Chancy, side_table: str) -> None:
    sequence = Sequence("seq", [step_job(side_table, f"s{i}") for i in range(3)])
    async with running(app):
        workflow_id = await sequence.push(app)
        done = await WorkflowPlugin.wait_for_workflow(app, workflow_id, interval=0.05, timeout=15)
    assert done.state == Workflow.State.COMPLETED
    assert list(done.steps) == ["step_0", "step_1", "step_2"]
    log = await step_log(app, side_table)
    assert log["s0"][1] <= log["s1"][0] and log["s1"][1] <= log["s2"][0]


async def test_push_queues_roots_in_the_callers_transaction(app: Chancy, side_table: str) -> None:
    workflow = fan_out(side_table)
    async with app.engine.connect() as conn:
        async with conn.begin() as tx:
            await WorkflowPlugin.push_ex(conn, app, workflow)
            await tx.rollback()
    assert await WorkflowPlugin.get_workflow(app, workflow.id) is None
    assert await app.get_jobs([]) == []

    workflow_id = await WorkflowPlugin.push(app, workflow)
    saved = await WorkflowPlugin.get_workflow(app, workflow_id)
    assert saved is not None and saved.state == Workflow.State.RUNNING
    # Only the root is pushed; the rest wait for it.
    assert saved["A"].state == "pending" and saved["A"].job_id is not None
    assert [saved[s].job_id for s in "BCD"] == [None, None, None]
    # Pushing it again does not push the root a second time.
    await WorkflowPlugin.push(app, workflow)
    again = await WorkflowPlugin.get_workflow(app, workflow_id)
    assert again is not None and again["A"].job_id == saved["A"].job_id
    dot = io.StringIO()
    generate_dot(again, dot)
    assert '"A" -> "B";' in dot.getvalue() and "fillcolor=lightblue" in dot.getvalue()


async def test_sweep_advances_workflows_without_a_worker(app: Chancy, side_table: str) -> None:
    """A step finished outside any worker (cancelled) is picked up by the leader's sweep."""
    plugin = app.plugins["chancy.workflow_plugin"]
    workflow_id = await WorkflowPlugin.push(app, fan_out(side_table))
    saved = await WorkflowPlugin.get_workflow(app, workflow_id)
    assert saved is not None
    await app.cancel_job(_ref(saved["A"].job_id))
    assert await plugin.sweep(app) == 1
    done = await WorkflowPlugin.get_workflow(app, workflow_id)
    assert done is not None and done.state == Workflow.State.FAILED
    assert await plugin.sweep(app) == 0  # nothing active is left
    # Finished workflows are pruned by cleanup (every age matches this rule).
    plugin.pruning_rule = WorkflowPlugin.Rules.Age() >= 0
    assert await plugin.cleanup(app) == 1
    assert await WorkflowPlugin.get_workflow(app, workflow_id) is None


async def test_wait_for_workflow_timeout_and_missing(app: Chancy, side_table: str) -> None:
    workflow_id = await WorkflowPlugin.push(app, fan_out(side_table))
    with pytest.raises(TimeoutError):
        await WorkflowPlugin.wait_for_workflow(app, workflow_id, interval=0.02, timeout=0.1)
    with pytest.raises(KeyError):
        await WorkflowPlugin.wait_for_workflow(app, uuid.uuid4(), timeout=1)
    running_only = await WorkflowPlugin.get_workflows(app, states=["running"])
    assert [w.id for w in running_only] == [workflow_id]
    assert await WorkflowPlugin.get_workflows(app, states=["completed"]) == []


# -- migrations ---------------------------------------------------------------------------
async def test_enabling_the_plugin_migrates_only_its_branch(dsn: str) -> None:
    async with isolated_chancy(dsn, no_default_plugins=True) as core_only:
        assert "workflows" not in await table_stems(core_only)
        app = Chancy(
            dsn,
            prefix=core_only.prefix,
            plugins=[leadership(), WorkflowPlugin()],
            no_default_plugins=True,
        )
        async with app:
            assert not await app.is_up_to_date()
            with pytest.raises(MigrationsNeededError):
                await Worker(app, register_signal_handlers=False).start()
            await app.migrate()
            assert await app.is_up_to_date()
            stems = await table_stems(app)
            assert {"workflows", "workflow_steps", "jobs"} <= stems
            assert "metrics" not in stems and "cron" not in stems
            assert "workflow_0001" in await app.current_revisions()
            assert await diff_against(app, WorkflowPlugin) == []

            await app.migrate_plugin("workflow", remove=True)
            stems = await table_stems(app)
            assert "workflows" not in stems and "workflow_steps" not in stems
            assert {"jobs", "queues"} <= stems
            assert not await app.is_up_to_date()
            assert await core_only.is_up_to_date()


# -- planning (no database) ---------------------------------------------------------------
def _step(row_id: int, step_id: str, deps: list[str], **fields: Any) -> StepRow:
    values: dict[str, Any] = {"job_id": None, "state": None, "job_state": None, **fields}
    return StepRow(
        id=row_id,
        workflow_id=WF,
        step_id=step_id,
        job_data=Job(func="m.f", meta={"mine": 1}).pack(),
        dependencies=deps,
        **values,
    )


WF = uuid.UUID(int=1)


def test_plan_pushes_ready_steps_with_their_ids_in_meta() -> None:
    done = _step(1, "a", [], job_id=uuid.uuid4(), state="pending", job_state="succeeded")
    decided = plan({WF: "running"}, [done, _step(2, "b", ["a"]), _step(3, "c", ["b"])])
    assert [(s.step_id, j.meta) for s, j in decided.to_push] == [
        ("b", {"mine": 1, "workflow_id": str(WF), "step_id": "b"})
    ]
    assert decided.step_updates == {1: (done.job_id, "succeeded")}
    assert decided.workflow_states == {}  # still running


def test_plan_states() -> None:
    gone = _step(1, "a", [], job_id=uuid.uuid4(), state="running")  # job row deleted
    assert plan({WF: "running"}, [gone, _step(2, "b", ["a"])]).workflow_states == {WF: "failed"}
    pruned = _step(1, "a", [], job_id=uuid.uuid4(), state="succeeded")  # finished, then pruned
    assert plan({WF: "running"}, [pruned]).workflow_states == {WF: "completed"}
    retrying = _step(1, "a", [], job_id=uuid.uuid4(), state="pending", job_state="retrying")
    decided = plan({WF: "pending"}, [retrying, _step(2, "b", ["a"])])
    assert decided.to_push == [] and decided.workflow_states == {WF: "running"}
