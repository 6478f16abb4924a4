"""The Alembic environment shipped with chancy; see :mod:`chancy.migrations.runtime`."""

from __future__ import annotations

from alembic import context

from chancy.migrations.runtime import run_env

run_env(context)
