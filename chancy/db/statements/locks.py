"""Advisory locks, keyed by prefix so two apps in one database never block each other."""

from __future__ import annotations

import sqlalchemy as sa


def migration_lock(prefix: str) -> sa.Select[tuple[object]]:
    """Held until the migrating transaction ends: concurrent ``migrate()`` calls queue up."""
    return sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"{prefix}migrate")))
