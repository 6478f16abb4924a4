"""Every revision runs up and down, one step at a time, and leaves exactly what it should."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from chancy import Chancy
from chancy.migrations import CORE_BRANCH, Migrator
from tests.migrations.helpers import leftovers, snapshot, stems, version_rows

CORE_STEMS = {"jobs", "queues", "workers", "leader", "queue_rate_limits"}
JOB_INDEXES = {"fetch", "unique_key", "queue_state", "state_completed_at", "running"}

#: What the known core revisions leave behind: table stems and the indexes on jobs.
#: Later revisions are still stepped through and round-tripped, just not spelled out.
KNOWN: dict[str, tuple[set[str], set[str]]] = {
    "core_0001": (CORE_STEMS, {"pk_{p}jobs"}),
    "core_0002": (CORE_STEMS, {"pk_{p}jobs"} | {f"ix_{{p}}jobs_{i}" for i in JOB_INDEXES}),
    "core_0003": (CORE_STEMS, {"pk_{p}jobs"} | {f"ix_{{p}}jobs_{i}" for i in JOB_INDEXES}),
    "core_0004": (CORE_STEMS, {"pk_{p}jobs"} | {f"ix_{{p}}jobs_{i}" for i in JOB_INDEXES}),
}


def bystander(engine: sa.Engine, prefix: str) -> dict[str, Any]:
    """Migrate ``prefix`` fully and return its schema, to check later it was not touched."""
    with engine.begin() as conn:
        Migrator(prefix).upgrade(conn, "heads")
    with engine.connect() as conn:
        return snapshot(conn, prefix)


async def test_step_up_and_down_through_every_core_revision(
    engine: sa.Engine, new_prefix: Callable[..., str], make_app: Callable[[str], Chancy]
) -> None:
    prefix, other = new_prefix(), new_prefix("tenant2")
    app = make_app(prefix)
    revisions = app.migrator.core_revisions()
    assert revisions[: len(KNOWN)] == list(KNOWN)
    untouched = bystander(engine, other)

    going_up: dict[int, dict[str, Any]] = {}
    for version, revision in enumerate(revisions, start=1):
        await app.migrate(to_version=version)
        assert await app.current_revisions() == (revision,)
        with engine.connect() as conn:
            assert version_rows(conn, prefix) == {revision}
            assert app.migrator.core_version(conn) == version
            going_up[version] = snapshot(conn, prefix)
            if revision in KNOWN:
                expected_stems, job_indexes = KNOWN[revision]
                assert stems(conn, prefix) == expected_stems | {"alembic_version"}
                assert set(going_up[version]["{p}jobs"]["indexes"]) == job_indexes

    # Coming back down, each version looks exactly as it did on the way up.
    for version in reversed(range(1, len(revisions))):
        await app.migrate(to_version=version)
        with engine.connect() as conn:
            assert version_rows(conn, prefix) == {revisions[version - 1]}
            assert snapshot(conn, prefix) == going_up[version]

    await app.migrate(to_version=0)
    with engine.connect() as conn:
        assert leftovers(conn, prefix) == set()  # the version table included
        assert snapshot(conn, other) == untouched
        assert version_rows(conn, other)


async def test_version_zero_removes_plugin_tables_too(
    engine: sa.Engine, new_prefix: Callable[..., str], make_app: Callable[[str], Chancy]
) -> None:
    prefix, other = new_prefix(), new_prefix("tenant2")
    untouched = bystander(engine, other)
    with engine.begin() as conn:
        Migrator(prefix).upgrade(conn, "heads")  # core and every plugin branch
    app = make_app(prefix)

    await app.migrate(to_version=1)  # plugins depending on later core revisions go first
    with engine.connect() as conn:
        assert app.migrator.applied(conn) == {app.migrator.core_revisions()[0]}
        assert stems(conn, prefix) == CORE_STEMS | {"alembic_version"}

    await app.migrate(to_version=0)
    with engine.connect() as conn:
        assert leftovers(conn, prefix) == set()
        assert snapshot(conn, other) == untouched


async def test_migrate_twice_changes_nothing(
    engine: sa.Engine, new_prefix: Callable[..., str], make_app: Callable[[str], Chancy]
) -> None:
    prefix = new_prefix()
    app = make_app(prefix)
    await app.migrate()
    with engine.connect() as conn:
        before = snapshot(conn, prefix), version_rows(conn, prefix)
    await app.migrate()
    await app.migrate(to_version=len(app.migrator.core_revisions()))
    with engine.connect() as conn:
        assert (snapshot(conn, prefix), version_rows(conn, prefix)) == before


def plugin_branches() -> list[str]:
    return [b for b in Migrator().branches() if b != CORE_BRANCH]


def test_the_plugins_with_tables_have_branches() -> None:
    """So the stepping test below cannot silently run on no branch at all."""
    assert {"api", "cron", "metrics", "trigger", "workflow"} <= set(plugin_branches())


@pytest.mark.parametrize("branch", plugin_branches())
def test_plugin_branch_steps_up_and_down_alone(
    engine: sa.Engine, new_prefix: Callable[..., str], branch: str
) -> None:
    """Each plugin branch, one revision at a time, on top of core; removing it keeps core."""
    prefix = new_prefix()
    migrator = Migrator(prefix)
    head = migrator.script.get_revision(f"{branch}@head").revision
    with engine.begin() as conn:
        migrator.upgrade(conn, "core@head")
    with engine.connect() as conn:
        core_only = snapshot(conn, prefix)

    going_up = []
    for _ in migrator.script.walk_revisions():  # bounded: never more steps than revisions
        with engine.begin() as conn:
            migrator.upgrade(conn, f"{branch}@+1")
        with engine.connect() as conn:
            going_up.append(snapshot(conn, prefix))
            if head in migrator.applied(conn):
                break
    assert set(going_up[-1]) > set(core_only), "the plugin branch created no table"

    for expected in [*reversed(going_up[:-1]), core_only]:
        with engine.begin() as conn:
            migrator.downgrade(conn, f"{branch}@-1")
        with engine.connect() as conn:
            assert snapshot(conn, prefix) == expected
    with engine.connect() as conn:
        assert migrator.is_up_to_date(conn)  # core is still at its head
