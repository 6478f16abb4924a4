"""The :class:`Migrator`: programmatic Alembic for one prefix, sync functions on a Connection.

Async callers run these through ``AsyncConnection.run_sync`` so a whole migration is one
transaction on the caller's connection.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from chancy.config import validate_prefix
from chancy.errors import MigrationError
from chancy.migrations.alembic_state import alembic_command

__all__ = ["CORE_BRANCH", "Migrator", "run_chancy_migrations"]

CORE_BRANCH = "core"
_PACKAGE = Path(str(resources.files("chancy")))


def version_locations() -> list[str]:
    """The core versions folder and every bundled plugin's ``migrations`` folder.

    Every branch must always be on the search path, enabled or not: Alembic cannot even
    read the version table once a revision it recorded is missing from it.
    """
    found = [str(_PACKAGE / "migrations" / "versions")]
    found += sorted(str(p) for p in (_PACKAGE / "plugins").glob("*/migrations") if p.is_dir())
    return found


class Migrator:
    """Migrations of one table prefix. Every method takes a sync :class:`Connection`."""

    def __init__(self, prefix: str = "chancy_") -> None:
        self.prefix = validate_prefix(prefix)

    def config(self, connection: Connection | None = None) -> Config:
        cfg = Config(attributes={"connection": connection, "table_prefix": self.prefix})
        cfg.set_main_option("script_location", str(_PACKAGE / "migrations"))
        cfg.set_main_option("path_separator", "os")
        cfg.set_main_option("version_locations", os.pathsep.join(version_locations()))
        return cfg

    @property
    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())

    def core_revisions(self) -> list[str]:
        """Core revision ids, oldest first; version ``n`` is ``core_revisions()[n - 1]``."""
        revs = list(self.script.iterate_revisions(f"{CORE_BRANCH}@head", "base"))
        return [r.revision for r in reversed(revs)]

    def branches(self) -> list[str]:
        """Every branch label known: ``core`` and each plugin branch."""
        labels: set[str] = set()
        for rev in self.script.walk_revisions():
            labels |= set(rev.branch_labels or ())
        return sorted(labels)

    def current_heads(self, connection: Connection) -> tuple[str, ...]:
        ctx = MigrationContext.configure(
            connection, opts={"version_table": f"{self.prefix}alembic_version"}
        )
        return tuple(ctx.get_current_heads())

    def known_heads(self, connection: Connection) -> tuple[str, ...]:
        """The recorded heads, after checking this installation knows every one of them."""
        heads = self.current_heads(connection)
        script = self.script
        unknown = []
        for head in heads:
            try:
                script.get_revision(head)
            except CommandError:
                unknown.append(head)
        if unknown:
            raise MigrationError(
                f"Table {self.prefix}alembic_version records revision(s) "
                f"{', '.join(map(repr, unknown))}, which this installation of chancy does not "
                "know: the database was migrated by a newer chancy, or by a plugin whose "
                "migrations are not installed. Install that chancy version (and plugin), "
                "then migrate again."
            )
        return heads

    def applied(self, connection: Connection) -> set[str]:
        """Every revision in effect: the recorded heads and all their ancestors."""
        heads = self.known_heads(connection)
        if not heads:
            return set()
        return {r.revision for r in self.script.iterate_revisions(heads, "base")}

    def core_version(self, connection: Connection) -> int:
        applied = self.applied(connection)
        return sum(1 for rev in self.core_revisions() if rev in applied)

    def is_up_to_date(self, connection: Connection, branches: list[str] | None = None) -> bool:
        """True when core and ``branches`` are at their heads.

        Uses the ancestor closure of the recorded heads: when a plugin depends on the
        current core head, Alembic records only the plugin row, so comparing heads
        directly would call a fully migrated database outdated (alembic#1806).
        """
        applied = self.applied(connection)
        script = self.script
        for branch in [CORE_BRANCH, *(branches or [])]:
            if script.get_revision(f"{branch}@head").revision not in applied:
                return False
        return True

    def upgrade(self, connection: Connection, target: str = "heads") -> None:
        self._run(command.upgrade, connection, target)

    def downgrade(self, connection: Connection, target: str) -> None:
        self._run(command.downgrade, connection, target)

    def _run(self, fn: Callable[[Config, str], None], connection: Connection, target: str) -> None:
        self.known_heads(connection)
        try:
            with alembic_command():
                fn(self.config(connection), target)
        except CommandError as exc:
            raise MigrationError(
                f"Cannot {fn.__name__} the tables of prefix {self.prefix!r} to {target!r}: "
                f"{exc}. Known branches: {', '.join(self.branches())}."
            ) from exc

    def remove(self, connection: Connection) -> None:
        """Drop every table of this prefix, plugins' and the version table included."""
        self.downgrade(connection, "base")
        # Alembic leaves the emptied version table behind; nothing of the prefix should stay.
        sa.Table(f"{self.prefix}alembic_version", sa.MetaData()).drop(connection, checkfirst=True)

    def to_core_version(self, connection: Connection, version: int) -> None:
        """Move core up or down to ``version`` (0 removes every table of this prefix)."""
        revisions = self.core_revisions()
        if not 0 <= version <= len(revisions):
            raise MigrationError(
                f"Core version {version} does not exist; valid versions are 0 to "
                f"{len(revisions)} (0 removes every chancy table of prefix {self.prefix!r})."
            )
        if version == 0:
            self.remove(connection)
            return
        current = self.core_version(connection)
        if version > current:
            self.upgrade(connection, revisions[version - 1])
        elif version < current:
            self.downgrade(connection, revisions[version - 1])


def run_chancy_migrations(
    connection: Connection, prefix: str = "chancy_", target: str = "heads"
) -> None:
    """Bring chancy's tables to ``target`` from inside your own Alembic ``env.py``.

    Call it in ``run_migrations_online()`` after your own ``context.run_migrations()``,
    on the same connection, so ``alembic upgrade head`` migrates your tables and
    chancy's together; inside your ``context.begin_transaction()`` block both commit or
    roll back as one. Chancy keeps its own version table (``{prefix}alembic_version``),
    so your revision history is untouched, and your ``context`` keeps working afterwards.

    ``target`` is an upgrade target: ``"heads"`` (core and every bundled plugin),
    ``"core@head"``, ``"<plugin>@head"``; or ``"base"``, which removes every chancy table
    of the prefix, version table included.
    """
    migrator = Migrator(prefix)
    if target == "base":
        migrator.remove(connection)
    else:
        migrator.upgrade(connection, target)
