"""Schema checks shared by the Metrics and Workflow plugin tests.

``diff_against`` runs Alembic's ``compare_metadata`` between a migrated prefix and the
ORM metadata of core plus one plugin's models, reflecting only that prefix's tables
(other tests' prefixes share the database) and leaving out its version table.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from chancy import Chancy
from chancy.db import plugin_models

BUILDERS = {
    "metrics": plugin_models.build_metrics_models,
    "workflow": plugin_models.build_workflow_models,
}


async def table_stems(app: Chancy) -> set[str]:
    """The app's tables without the prefix (the version table included)."""

    def names(conn: sa.Connection) -> list[str]:
        return sa.inspect(conn).get_table_names()

    async with app.engine.connect() as conn:
        found = await conn.run_sync(names)
    return {n.removeprefix(app.prefix) for n in found if n.startswith(app.prefix)}


async def diff_against(app: Chancy, plugin: Any) -> list[Any]:
    """Differences between the migrated tables and core + ``plugin``'s models."""
    BUILDERS[plugin.migrations_branch](app.models)
    prefix = app.prefix

    def include_name(name: str | None, type_: str, parent: Any) -> bool:
        if type_ == "table":
            return bool(name and name.startswith(prefix) and name != f"{prefix}alembic_version")
        return True

    def compare(conn: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": include_name,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return compare_metadata(context, app.models.metadata)

    async with app.engine.connect() as conn:
        return await conn.run_sync(compare)
