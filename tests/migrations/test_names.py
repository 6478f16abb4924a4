"""Indexes and constraints carry the prefix, so two prefixes never collide in one schema."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from chancy.migrations import Migrator
from tests.migrations.helpers import index_and_constraint_names, snapshot


def test_two_prefixes_have_their_own_index_and_constraint_names(
    engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    first, second = new_prefix("chancy"), new_prefix("tenant2")
    with engine.begin() as conn:
        for prefix in (first, second):
            Migrator(prefix).upgrade(conn, "heads")
    with engine.connect() as conn:
        names = {p: index_and_constraint_names(conn, p) for p in (first, second)}
        shapes = [snapshot(conn, p) for p in (first, second)]

    for prefix, own in names.items():
        assert {f"pk_{prefix}jobs", f"pk_{prefix}queues", f"ix_{prefix}jobs_fetch"} <= own
        # Every name contains its own prefix, never a bare stem such as "ix_jobs_fetch".
        assert all(prefix in name for name in own), sorted(n for n in own if prefix not in n)
    assert names[first].isdisjoint(names[second])
    # Same schema, names aside.
    assert shapes[0] == shapes[1]


def test_index_names_are_namespaced_by_the_catalog(
    engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    """Why it matters: an index name is a relation name in Postgres, unique per schema."""
    prefix = new_prefix()
    with engine.begin() as conn:
        Migrator(prefix).upgrade(conn, "core@head")
    with engine.connect() as conn:
        kinds = conn.execute(
            sa.text("SELECT relkind FROM pg_class WHERE relname = :name"),
            {"name": f"pk_{prefix}jobs"},
        ).scalars()
        assert list(kinds) == ["i"]
