"""Migrated table prefixes reused across tests, emptied between them.

Migrating a fresh prefix and removing it again costs ~0.3-0.5 s per test (a full Alembic
upgrade and downgrade), most of the suite's time. The ``chancy`` fixture instead takes a
core-only prefix from this pool and gives it back afterwards: if the test left exactly
the core tables at the core head, they are emptied and the prefix is reused; anything
else (a plugin branch migrated, a revision moved, a table added) gets the prefix removed
entirely, so no test ever sees another test's schema or rows. River's test schemas work
the same way.
"""

from __future__ import annotations

import sqlalchemy as sa

from chancy import Chancy
from chancy.migrations import Migrator
from chancy.testing import random_prefix


class PrefixPool:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.engine = sa.create_engine(
            dsn.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=sa.NullPool
        )
        self.free: list[str] = []
        self.head = Migrator().core_revisions()[-1]
        # Table stems of a prefix nobody has added plugin models to.
        probe = "pool_probe_"
        self.core_stems = {t[len(probe) :] for t in self._tables(probe)}

    async def acquire(self) -> str:
        if self.free:
            return self.free.pop()
        prefix = random_prefix("p")
        async with Chancy(self.dsn, prefix=prefix, no_default_plugins=True) as app:
            await app.migrate()
        return prefix

    def _tables(self, prefix: str) -> list[str]:
        models = Chancy(self.dsn, prefix=prefix, no_default_plugins=True).models
        return sorted(models.Base.metadata.tables)

    def _reusable(self, conn: sa.Connection, prefix: str, tables: list[str]) -> bool:
        # A test that built a plugin's models on this prefix registered their tables in
        # the prefix's cached metadata: the next test would see them, so don't reuse it.
        if {t[len(prefix) :] for t in tables} != self.core_stems:
            return False
        # Every schema change a test can make through chancy (a plugin branch, a core
        # revision up or down, removing the prefix) moves the recorded heads.
        return Migrator(prefix).current_heads(conn) == (self.head,)

    async def release(self, prefix: str) -> None:
        tables = self._tables(prefix)
        with self.engine.begin() as conn:
            if self._reusable(conn, prefix, tables):
                # DELETE, not TRUNCATE: on tables this small it is several times faster.
                for table in tables:
                    conn.execute(sa.text(f'DELETE FROM "{table}"'))
                self.free.append(prefix)
                return
        await self.remove(prefix)

    async def remove(self, prefix: str) -> None:
        async with Chancy(self.dsn, prefix=prefix, no_default_plugins=True) as app:
            await app.migrate(to_version=0)

    async def close(self) -> None:
        while self.free:
            await self.remove(self.free.pop())
        self.engine.dispose()
