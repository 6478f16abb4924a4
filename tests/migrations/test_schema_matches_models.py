"""The ORM models and the migrated schema describe the same tables, for any prefix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from chancy.config import MAX_PREFIX_LENGTH
from chancy.migrations import Migrator
from tests.migrations.helpers import (
    diff_against_models,
    drop_prefix,
    full_metadata,
    snapshot,
    stems,
)

CORE_STEMS = {"jobs", "queues", "workers", "leader", "queue_rate_limits"}


def test_compare_metadata_is_empty_for_two_prefixes_side_by_side(
    engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    first, second = new_prefix("chancy"), new_prefix("tenant2")
    with engine.begin() as conn:
        Migrator(first).upgrade(conn, "heads")
        Migrator(second).upgrade(conn, "heads")
    with engine.connect() as conn:
        for prefix in (first, second):
            # The filter must still see this prefix's tables, or [] would prove nothing.
            assert CORE_STEMS | {"alembic_version"} <= stems(conn, prefix)
            assert diff_against_models(conn, prefix) == []


def test_compare_metadata_reports_drift(engine: sa.Engine, new_prefix: Callable[..., str]) -> None:
    """The comparison above can fail: a schema change made by hand shows up in the diff."""
    prefix, other = new_prefix(), new_prefix()
    with engine.begin() as conn:
        Migrator(prefix).upgrade(conn, "heads")
        Migrator(other).upgrade(conn, "heads")
        conn.execute(sa.text(f"DROP INDEX ix_{prefix}jobs_queue_state"))
        conn.execute(sa.text(f"ALTER TABLE {prefix}queues ADD COLUMN stray integer"))
        conn.execute(sa.text(f"ALTER TABLE {prefix}jobs ALTER COLUMN priority SET DEFAULT 7"))
    with engine.connect() as conn:
        assert summarize(diff_against_models(conn, prefix)) == {
            ("add_index", f"ix_{prefix}jobs_queue_state"),
            ("remove_column", "stray"),
            ("modify_default", "priority"),
        }
        # The other prefix is compared on its own and is still clean.
        assert diff_against_models(conn, other) == []


def summarize(diffs: list[Any]) -> set[tuple[str, str]]:
    """``(operation, object name)`` for each entry of a compare_metadata result."""
    flat = [entry for d in diffs for entry in (d if isinstance(d, list) else [d])]
    named = {"add_index": 1, "remove_index": 1, "remove_column": 3, "modify_default": 3}
    result = set()
    for op, *rest in flat:
        target = rest[named[op] - 1] if op in named else None
        result.add((op, getattr(target, "name", target)))
    return result


def test_migrated_schema_equals_create_all_of_the_models(
    engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    """Stricter than compare_metadata: partial-index predicates, UNLOGGED, defaults."""
    migrated, created = new_prefix("mig"), new_prefix("orm")
    with engine.begin() as conn:
        Migrator(migrated).upgrade(conn, "heads")
        full_metadata(created).create_all(conn)
    with engine.connect() as conn:
        expected, actual = snapshot(conn, created), snapshot(conn, migrated)
    assert {"{p}" + stem for stem in CORE_STEMS} <= set(expected)
    assert expected["{p}workers"]["persistence"] == "u"
    # The jobs table's storage parameters are declared by both the model and the revision.
    assert "fillfactor=70" in actual["{p}jobs"]["options"]
    assert actual["{p}jobs"]["options"] == expected["{p}jobs"]["options"]
    # Plugin functions (the trigger handler) exist only in the migrations.
    for schema in (expected, actual):
        del schema["(functions)"]
    assert actual == expected


def test_longest_prefix_keeps_every_name_whole(
    engine: sa.Engine, new_prefix: Callable[..., str]
) -> None:
    """Postgres truncates names at 63 bytes; the longest allowed prefix must not hit that."""
    base = new_prefix("l")
    prefix = base.rstrip("_") + "x" * (MAX_PREFIX_LENGTH - len(base)) + "_"
    assert len(prefix) == MAX_PREFIX_LENGTH
    try:
        for table in full_metadata(prefix).tables.values():
            names = [table.name, *(i.name for i in table.indexes)]
            names += [c.name for c in table.constraints]
            assert all(isinstance(n, str) and len(n.encode()) <= 63 for n in names), names
        with engine.begin() as conn:
            Migrator(prefix).upgrade(conn, "heads")
        with engine.connect() as conn:
            assert diff_against_models(conn, prefix) == []
    finally:
        with engine.begin() as conn:
            drop_prefix(conn, prefix)
