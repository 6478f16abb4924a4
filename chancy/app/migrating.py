"""Migrations from the app: core plus the branch of every enabled plugin with tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chancy.app.core import AppCore

if TYPE_CHECKING:
    from chancy.migrations import Migrator


class MigrateMixin(AppCore):
    @property
    def migrator(self) -> Migrator:
        # Imported here: Alembic (with Mako and Pygments under it) is ~0.3 s of start-up
        # that a process which only pushes or runs jobs never needs.
        from chancy.migrations import Migrator

        return Migrator(self.prefix)

    def plugin_branches(self) -> list[str]:
        """The Alembic branch labels of enabled plugins that have tables."""
        branches = (getattr(p, "migrations_branch", None) for p in self.plugins.values())
        return [b for b in branches if b]

    async def migrate(self, *, to_version: int | None = None) -> None:
        """Bring the schema of this prefix up to date.

        Without ``to_version``: core and every enabled plugin's branch go to their heads.
        With ``to_version``: the core moves up or down to that version, where version
        ``n`` is the n-th core revision (``chancy --app ... misc check-migrations`` lists them) and
        ``0`` removes every table of this prefix, plugins' included. Other prefixes in the
        same database are never touched. Concurrent calls are safe: they take turns on an
        advisory lock keyed by the prefix.

        Test a migration on a copy of your data before running it in production.
        """
        async with self.engine.begin() as conn:
            if to_version is None:
                targets = ["core@head", *(f"{b}@head" for b in self.plugin_branches())]
                for target in targets:
                    await conn.run_sync(self.migrator.upgrade, target)
            else:
                await conn.run_sync(self.migrator.to_core_version, to_version)

    async def migrate_plugin(self, branch: str, *, remove: bool = False) -> None:
        """Upgrade one plugin's branch to its head, or with ``remove`` drop its tables only."""
        target = f"{branch}@base" if remove else f"{branch}@head"
        async with self.engine.begin() as conn:
            if remove:
                await conn.run_sync(self.migrator.downgrade, target)
            else:
                await conn.run_sync(self.migrator.upgrade, target)

    async def is_up_to_date(self) -> bool:
        """True when core and every enabled plugin's tables are at their newest revision."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(self.migrator.is_up_to_date, self.plugin_branches())

    async def current_revisions(self) -> tuple[str, ...]:
        """The revision heads recorded in ``{prefix}alembic_version``."""
        async with self.engine.connect() as conn:
            return await conn.run_sync(self.migrator.current_heads)
