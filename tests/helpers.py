"""Reading and writing job rows directly, for every test folder.

Tests set up exact situations (a job finished long ago, claimed by a vanished worker)
with plain UPDATEs through ``app.models.Job``, and check results by reading the rows,
without going through the API under test. Every reader filters the same way: by
references and by ``column=value`` pairs.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from chancy import Chancy, Reference
from chancy.db.statements import jobs as jobs_sql


def _where(app: Chancy, stmt: Any, refs: Iterable[Reference] | None, where: dict[str, Any]) -> Any:
    table = app.models.Job.__table__
    if refs is not None:
        stmt = stmt.where(table.c.id.in_([r.identifier for r in refs]))
    for column, value in where.items():
        stmt = stmt.where(table.c[column] == value)
    return stmt


async def job_rows(
    app: Chancy, refs: Iterable[Reference] | None = None, **where: Any
) -> list[dict[str, Any]]:
    """The matching job rows as dicts, oldest first."""
    table = app.models.Job.__table__
    stmt = _where(app, sa.select(table).order_by(table.c.id), refs, where)
    async with app.engine.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(stmt)).all()]


async def job_row(app: Chancy, ref: Reference) -> dict[str, Any]:
    """One job's row as a dict; fails if it does not exist."""
    (row,) = await job_rows(app, [ref])
    return row


async def rows(app: Chancy, refs: Iterable[Reference] | None = None) -> dict[uuid.UUID, Any]:
    """The matching job rows by id (Row objects: ``rows[id].state``)."""
    stmt = _where(app, sa.select(app.models.Job.__table__), refs, {})
    async with app.engine.connect() as conn:
        return {row.id: row for row in (await conn.execute(stmt)).all()}


async def count_jobs(app: Chancy, **where: Any) -> int:
    table = app.models.Job.__table__
    stmt = _where(app, sa.select(sa.func.count()).select_from(table), None, where)
    async with app.engine.connect() as conn:
        return (await conn.execute(stmt)).scalar_one()


async def states(app: Chancy) -> dict[str, int]:
    """How many jobs are in each state."""
    table = app.models.Job.__table__
    stmt = sa.select(table.c.state, sa.func.count()).group_by(table.c.state)
    async with app.engine.connect() as conn:
        return {row[0]: row[1] for row in (await conn.execute(stmt)).all()}


async def update_jobs(app: Chancy, refs: Iterable[Reference], **values: Any) -> None:
    """Set columns of the given jobs directly (``values`` may hold SQL expressions)."""
    table = app.models.Job.__table__
    stmt = _where(app, sa.update(table), refs, {}).values(**values)
    async with app.engine.begin() as conn:
        await conn.execute(stmt)


async def set_state(app: Chancy, ref: Reference, state: str) -> None:
    """Move a job to ``state`` directly, as a worker (or an operator) would."""
    await update_jobs(app, [ref], state=state)


async def claim_rows(app: Chancy, queue: str, worker_id: str, up_to: int = 1) -> list[Any]:
    """Claim as a worker would (the worker's own statement), under ``worker_id`` (which
    may not exist); returns the claimed jobs' full rows in claim order (the claim itself
    returns only what a run needs)."""
    table = app.models.Job.__table__
    params = jobs_sql.fetch_params(queue, up_to, worker_id)
    async with app.engine.begin() as conn:
        ids = [r.id for r in (await conn.execute(jobs_sql.build_fetch(app.models), params))]
        full = (await conn.execute(sa.select(table).where(table.c.id.in_(ids)))).all()
    by_id = {row.id: row for row in full}
    return [by_id[ident] for ident in ids]
