"""Concurrent migrations of one prefix take turns; other prefixes are never held up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from chancy import Chancy
from chancy.db.statements.locks import migration_lock
from chancy.migrations import Migrator
from tests.migrations.helpers import diff_against_models, stems, version_rows

CORE_STEMS = {"jobs", "queues", "workers", "leader", "queue_rate_limits"}


async def test_two_apps_migrating_one_prefix_at_once_both_succeed(
    engine: sa.Engine, new_prefix: Callable[..., str], make_app: Callable[[str], Chancy]
) -> None:
    prefix = new_prefix()
    first, second = make_app(prefix), make_app(prefix)
    await asyncio.gather(first.migrate(), second.migrate())
    assert await first.is_up_to_date() and await second.is_up_to_date()
    with engine.connect() as conn:
        assert version_rows(conn, prefix) == {first.migrator.core_revisions()[-1]}
        assert diff_against_models(conn, prefix, only=CORE_STEMS) == []


async def test_two_prefixes_migrating_at_once_in_one_process_stay_apart(
    engine: sa.Engine, new_prefix: Callable[..., str], make_app: Callable[[str], Chancy]
) -> None:
    """Alembic's ``op`` is a process-wide proxy: interleaved migrations must take turns, or
    one prefix's DDL runs on the other's connection and transaction."""
    apps = [make_app(new_prefix("chancy")), make_app(new_prefix("tenant2"))]
    await asyncio.gather(*(app.migrate() for app in apps))
    await asyncio.gather(*(app.migrate(to_version=1) for app in apps))
    with engine.connect() as conn:
        for app in apps:
            assert stems(conn, app.prefix) == CORE_STEMS | {"alembic_version"}
            assert version_rows(conn, app.prefix) == {app.migrator.core_revisions()[0]}
    await asyncio.gather(*(app.migrate() for app in apps))
    with engine.connect() as conn:
        for app in apps:
            assert diff_against_models(conn, app.prefix, only=CORE_STEMS) == []


def test_migrating_waits_for_the_prefix_lock_and_only_that_one(
    engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    """Deterministic proof of the lock: while another session holds it, a migration of the
    prefix cannot start (it times out instead of waiting forever), and a migration of
    another prefix goes ahead."""
    locked, free = new_prefix(), new_prefix()
    with engine.connect() as holder:
        holder.execute(migration_lock(locked))  # held until holder's transaction ends
        with engine.connect() as conn, conn.begin():
            conn.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                Migrator(locked).upgrade(conn, "core@head")
        with engine.begin() as conn:
            Migrator(free).upgrade(conn, "core@head")
        holder.rollback()  # releases the lock
    with engine.begin() as conn:
        Migrator(locked).upgrade(conn, "core@head")
    with engine.connect() as conn:
        assert Migrator(locked).is_up_to_date(conn) and Migrator(free).is_up_to_date(conn)
