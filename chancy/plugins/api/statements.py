"""Api plugin statements: token revocation, the job browser and the system page."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from chancy.db.models import Models
from chancy.db.statements._sql import UUIDS
from chancy.plugins.api.models import ApiModels
from chancy.rule import SQLAble


def build_revoke(am: ApiModels, token_id: str, expires_at: dt.datetime) -> sa.Insert:
    """Record a logged-out token's id; revoking twice is harmless."""
    t = am.RevokedToken.__table__
    stmt = pg.insert(t).values(token_id=token_id, expires_at=expires_at)
    return stmt.on_conflict_do_nothing(index_elements=[t.c.token_id])


def build_is_revoked(am: ApiModels, token_id: str) -> sa.Select[Any]:
    """One primary-key probe: a row means the token was revoked."""
    t = am.RevokedToken.__table__
    return sa.select(t.c.token_id).where(t.c.token_id == token_id)


def build_forget_expired_revocations(am: ApiModels) -> sa.Delete:
    """Revocations of tokens that have expired by now protect nothing."""
    t = am.RevokedToken.__table__
    return sa.delete(t).where(t.c.expires_at < sa.func.now())


def build_job_page(
    models: Models,
    *,
    states: Sequence[str] | None,
    queue: str | None,
    rules: Sequence[SQLAble],
    before: uuid.UUID | None,
    limit: int,
) -> sa.Select[Any]:
    """One page of the job browser, newest first.

    Keyset pagination on the id (ids are time ordered): the next page is ``before`` the
    last id of this one, so pages never overlap or skip rows while jobs keep arriving.
    ``rules`` are :mod:`chancy.rule` conditions (the function search and the validated
    ``[field, op, value]`` filters).
    """
    t = models.Job.__table__
    stmt = sa.select(t)
    if states:
        stmt = stmt.where(t.c.state.in_(list(states)))
    if queue is not None:
        stmt = stmt.where(t.c.queue == queue)
    for rule in rules:
        stmt = stmt.where(rule.to_sql(t))
    if before is not None:
        stmt = stmt.where(t.c.id < before)
    return stmt.order_by(t.c.id.desc()).limit(limit)


def build_job_functions(models: Models, limit: int) -> sa.Select[Any]:
    """The distinct job functions, alphabetically, at most ``limit`` of them."""
    t = models.Job.__table__
    return sa.select(t.c.func).group_by(t.c.func).order_by(t.c.func).limit(limit)


def build_lock_jobs(models: Models, idents: list[uuid.UUID]) -> sa.Select[Any]:
    """Lock the given jobs (in id order, so concurrent batches cannot deadlock)."""
    t = models.Job.__table__
    return (
        sa.select(t.c.id, t.c.state)
        .where(t.c.id == sa.func.any(sa.bindparam("ids", idents, UUIDS)))
        .order_by(t.c.id)
        .with_for_update()
    )


def build_server_version() -> sa.Select[Any]:
    return sa.select(sa.func.current_setting("server_version").label("version"))
