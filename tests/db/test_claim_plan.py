"""The claim walks the ``fetch`` index in order even on a table that was never analysed
(autovacuum off or behind): no bitmap scan plus a sort of the whole backlog."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from chancy import Chancy, Job
from chancy.app.driver import HotStatement
from chancy.db.statements import bench as bench_sql
from chancy.db.statements import jobs as jobs_sql
from chancy.plugins.pruner.statements import build_prune
from chancy.rule import JobRules


async def claim_plan(app: Chancy, engine: AsyncEngine) -> dict[str, Any]:
    """``EXPLAIN (FORMAT JSON)`` of the worker's claim on a connection of ``engine``."""
    hot = HotStatement.of(jobs_sql.build_fetch(app.models), engine.dialect)
    params = hot.params({"fetch_queue": "q", "fetch_limit": 100, "fetch_worker": "w"})
    async with engine.connect() as conn:
        driver = (await conn.get_raw_connection()).driver_connection
        async with driver.cursor() as cursor:
            await cursor.execute("EXPLAIN (FORMAT JSON) " + hot.sql, params)
            (row,) = await cursor.fetchall()
    return row[0][0]["Plan"]


def nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found.extend(nodes(child))
    return found


async def test_unanalysed_claim_walks_the_fetch_index(chancy: Chancy) -> None:
    for state, count in (("succeeded", 200_000), ("pending", 20_000)):
        fill = bench_sql.build_fill_jobs(chancy.models, count=count, queue="q", state=state)
        async with chancy.engine.begin() as conn:
            await conn.execute(fill)
    async with chancy.engine.connect() as conn:
        analysed = sa.text("SELECT reltuples FROM pg_class WHERE relname = :name")
        name = f"{chancy.prefix}jobs"
        assert (await conn.execute(analysed, {"name": name})).scalar_one() <= 0
    worker_engine = chancy.make_worker_engine()
    try:
        plan = nodes(await claim_plan(chancy, worker_engine))
    finally:
        await worker_engine.dispose()
    kinds = [node["Node Type"] for node in plan]
    assert "Sort" not in kinds and "Bitmap Heap Scan" not in kinds, kinds
    scans = [node for node in plan if node.get("Index Name") == f"ix_{chancy.prefix}jobs_fetch"]
    assert [node["Node Type"] for node in scans] == ["Index Scan"]


async def test_the_claim_relaxes_only_its_own_commit(chancy: Chancy) -> None:
    """The claim commits without waiting for its WAL flush (transaction-local), and the
    connection's own setting is untouched afterwards (the completer shares the pool)."""
    await chancy.push(Job(func="m.f", queue="q"))
    stmt = jobs_sql.build_fetch(chancy.models)
    compiled = stmt.compile(dialect=chancy.engine.dialect)
    assert "set_config(" in compiled.string
    assert ["synchronous_commit", "off", True] == [
        v for v in compiled.params.values() if v in ("synchronous_commit", "off", True)
    ]
    engine = chancy.make_worker_engine()
    try:
        async with engine.connect() as conn:
            params = {"fetch_queue": "q", "fetch_limit": 5, "fetch_worker": "w"}
            assert len((await conn.execute(stmt, params)).all()) == 1
            await conn.commit()
            setting = sa.select(sa.func.current_setting("synchronous_commit"))
            assert (await conn.execute(setting)).scalar_one() == "on"
    finally:
        await engine.dispose()


async def test_the_finished_index_takes_no_claimed_rows(chancy: Chancy) -> None:
    """The ``(state, completed_at)`` index holds finished jobs only (core_0004), so a push
    or a claim (a non-HOT update: every index whose predicate the new row matches gets an
    entry) adds nothing to it; the Pruner's delete can still use it."""
    name = f"ix_{chancy.prefix}jobs_state_completed_at"
    async with chancy.engine.connect() as conn:
        definition = sa.text("SELECT pg_get_indexdef(CAST(:index AS regclass))")
        text = (await conn.execute(definition, {"index": name})).scalar_one()
        assert "WHERE" in text and "'succeeded'" in text and "'failed'" in text
        assert "'pending'" not in text and "'running'" not in text
        await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        prune = build_prune(chancy.models, JobRules.Age() > 60, limit=100)
        sql = str(prune.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        plan = (await conn.execute(sa.text(f"EXPLAIN (FORMAT JSON) {sql}"))).scalar_one()
    assert name in {node.get("Index Name") for node in nodes(plan[0]["Plan"])}
