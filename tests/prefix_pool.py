"""Migrated table prefixes reused across tests, emptied between them.

Migrating a fresh prefix and removing it again costs ~0.3-0.5 s per test (a full Alembic
upgrade and downgrade), most of the suite's time. The ``chancy`` fixture and
:func:`pooled_chancy` instead take a prefix migrated for the plugins they need (core only,
or core plus some plugin branches) from this pool and give it back afterwards: if the test
left the schema exactly as it was handed over, every table is emptied and the prefix is
reused by a later test needing the same branches; anything else (a branch migrated or
removed, a revision moved, a table added, models of another table registered on the
prefix) gets the prefix removed entirely, so no test ever sees another test's schema or
rows. River's test schemas work the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from chancy import Chancy
from chancy.app.core import DEFAULT_PLUGINS
from chancy.db.models import build_models
from chancy.migrations import Migrator
from chancy.testing import random_prefix
from chancy.utils import import_string

Branches = frozenset[str]
CORE: Branches = frozenset()


@dataclass(frozen=True)
class Shape:
    """What a pooled prefix looked like when it was handed out."""

    heads: frozenset[str]
    tables: frozenset[str]


def branches_of(plugins: Iterable[Any], *, defaults: bool) -> Branches:
    """The plugin branches an app with these plugins migrates (its defaults included)."""
    found = [getattr(p, "migrations_branch", None) for p in plugins]
    if defaults:
        found += [
            getattr(import_string(path), "migrations_branch", None) for path in DEFAULT_PLUGINS
        ]
    return frozenset(b for b in found if b)


class PrefixPool:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.engine = sa.create_engine(
            dsn.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=sa.NullPool
        )
        self.free: dict[Branches, list[str]] = {}
        self.shapes: dict[str, tuple[Branches, Shape]] = {}

    async def acquire(self, branches: Branches = CORE) -> str:
        free = self.free.setdefault(branches, [])
        if free:
            return free.pop()
        prefix = random_prefix("p")
        migrator = Migrator(prefix)
        with self.engine.begin() as conn:
            for target in ["core@head", *(f"{b}@head" for b in sorted(branches))]:
                migrator.upgrade(conn, target)
            self.shapes[prefix] = (branches, self._shape(conn, prefix))
        return prefix

    def _shape(self, conn: sa.Connection, prefix: str) -> Shape:
        heads = frozenset(Migrator(prefix).current_heads(conn))
        like = prefix.replace("_", r"\_") + "%"
        rows = conn.execute(
            sa.text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename LIKE :like"
            ),
            {"like": like},
        ).scalars()
        tables = frozenset(t for t in rows if t != f"{prefix}alembic_version")
        return Shape(heads, tables)

    def _reusable(self, conn: sa.Connection, prefix: str, shape: Shape) -> bool:
        # Every schema change a test can make through chancy (a plugin branch, a core
        # revision up or down, removing the prefix) moves the recorded heads or the tables.
        if self._shape(conn, prefix) != shape:
            return False
        # A test that built models of a table this prefix doesn't have registered them in
        # the prefix's cached metadata: the next test would see them, so don't reuse it.
        return set(build_models(prefix).Base.metadata.tables) <= shape.tables

    async def release(self, prefix: str) -> None:
        branches, shape = self.shapes[prefix]
        with self.engine.begin() as conn:
            if self._reusable(conn, prefix, shape):
                # DELETE, not TRUNCATE: on tables this small it is several times faster
                # (the one foreign key, workflow steps -> workflows, cascades).
                for table in sorted(shape.tables):
                    conn.execute(sa.text(f'DELETE FROM "{table}"'))
                self.free.setdefault(branches, []).append(prefix)
                return
        await self.remove(prefix)

    async def remove(self, prefix: str) -> None:
        self.shapes.pop(prefix, None)
        async with Chancy(self.dsn, prefix=prefix, no_default_plugins=True) as app:
            await app.migrate(to_version=0)

    async def close(self) -> None:
        for free in self.free.values():
            while free:
                await self.remove(free.pop())
        self.engine.dispose()


#: One pool per process and DSN: fixtures and test bodies share it (tests/conftest.py
#: closes it at the end of the session).
_SHARED: dict[str, PrefixPool] = {}


def shared_pool(dsn: str) -> PrefixPool:
    pool = _SHARED.get(dsn)
    if pool is None:
        pool = _SHARED[dsn] = PrefixPool(dsn)
    return pool


async def close_shared() -> None:
    while _SHARED:
        await _SHARED.popitem()[1].close()


@contextlib.asynccontextmanager
async def pooled_chancy(dsn: str, **options: Any) -> AsyncIterator[Chancy]:
    """Like :func:`chancy.testing.isolated_chancy`, on a pooled prefix migrated for the
    app's plugins, emptied (or removed) afterwards. For tests whose subject is not the
    migration itself."""
    if "prefix" in options:
        raise TypeError("pooled_chancy picks the prefix; use isolated_chancy for a given one")
    pool = shared_pool(dsn)
    defaults = not options.get("no_default_plugins", False)
    prefix = await pool.acquire(branches_of(options.get("plugins") or [], defaults=defaults))
    app = Chancy(dsn, prefix=prefix, **options)
    try:
        yield app
    finally:
        try:
            await app.__aexit__(None, None, None)
        finally:
            await pool.release(prefix)
