"""Statements of the Cron plugin: schedule upserts, the due-row claim, and run bookkeeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from chancy.db.statements._sql import TEXTS, TIMES
from chancy.plugins.cron.models import CronModels


def build_upsert(cm: CronModels) -> sa.Insert:
    """Insert or replace schedules; run with a list of row dicts (``unique_key``, ``job``,
    ``cron``, ``next_run``, ``timezone``).

    Rescheduling an existing key replaces its job, expression, zone and next run, but
    keeps ``last_run``: the schedule's history survives an edit.
    """
    table = cm.Cron.__table__
    stmt = pg.insert(table)
    return stmt.on_conflict_do_update(
        index_elements=[table.c.unique_key],
        set_={
            "job": stmt.excluded.job,
            "cron": stmt.excluded.cron,
            "next_run": stmt.excluded.next_run,
            "timezone": stmt.excluded.timezone,
        },
    )


def build_delete(cm: CronModels, unique_keys: Sequence[str]) -> sa.Delete:
    table = cm.Cron.__table__
    return sa.delete(table).where(
        table.c.unique_key == sa.any_(sa.bindparam("keys", list(unique_keys), TEXTS))
    )


def build_select(cm: CronModels, unique_keys: Sequence[str] | None = None) -> sa.Select[Any]:
    """Schedules in key order; all of them when ``unique_keys`` is None."""
    table = cm.Cron.__table__
    stmt = sa.select(table).order_by(table.c.unique_key)
    if unique_keys is not None:
        stmt = stmt.where(
            table.c.unique_key == sa.any_(sa.bindparam("keys", list(unique_keys), TEXTS))
        )
    return stmt


def build_claim_due(
    cm: CronModels, now: dt.datetime, *, after_key: str | None, limit: int
) -> sa.Select[Any]:
    """Lock up to ``limit`` schedules due at ``now``, in key order after ``after_key``.

    SKIP LOCKED lets a second caller (a former leader still finishing its tick) pass
    over rows being handled instead of waiting and pushing them again. Paging by key
    lets one tick reach every due row even when some of them are invalid and stay due.
    """
    table = cm.Cron.__table__
    stmt = (
        sa.select(
            table.c.unique_key,
            table.c.job,
            table.c.cron,
            table.c.next_run,
            table.c.timezone,
        )
        .where(table.c.next_run <= sa.bindparam("now", now, sa.DateTime(timezone=True)))
        .order_by(table.c.unique_key)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if after_key is not None:
        stmt = stmt.where(table.c.unique_key > sa.bindparam("after_key", after_key, sa.Text))
    return stmt


def build_mark_run(
    cm: CronModels, now: dt.datetime, unique_keys: Sequence[str], next_runs: Sequence[dt.datetime]
) -> sa.Update:
    """Record a run of each schedule at ``now`` and move it to its next run."""
    table = cm.Cron.__table__
    source = (
        sa.func.unnest(
            sa.bindparam("keys", list(unique_keys), TEXTS),
            sa.bindparam("next_runs", list(next_runs), TIMES),
        )
        .table_valued("unique_key", "next_run")
        .render_derived(name="v")
    )
    return (
        sa.update(table)
        .where(table.c.unique_key == source.c.unique_key)
        .values(
            next_run=source.c.next_run,
            last_run=sa.bindparam("now", now, sa.DateTime(timezone=True)),
        )
    )
