"""Alembic migrations shipped inside the package, run per table prefix.

One Alembic environment serves every prefix: the prefix travels in
``Config.attributes`` and reaches each revision as ``upgrade(table_prefix)``. Core is the
branch labelled ``core``; each plugin with tables has its own labelled branch that
``depends_on`` a core revision. All branches share the version table
``{prefix}alembic_version``.

Alembic keeps the command in progress in process-wide proxies (``alembic.context``,
``alembic.op``); :mod:`chancy.migrations.alembic_state` makes chancy's commands take turns
within a process and leaves an enclosing command (your own ``env.py``) intact.
"""

from __future__ import annotations

from chancy.migrations.migrator import CORE_BRANCH, Migrator, run_chancy_migrations

__all__ = ["CORE_BRANCH", "Migrator", "run_chancy_migrations"]
