"""Schema checks for one plugin branch: which tables a prefix has, and model drift.

``diff_with`` compares a migrated prefix against the core models plus the given plugin
model builders only, so a prefix that enabled one plugin is not reported as missing
the tables of the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from chancy import Chancy
from chancy.db.models import build_models

CORE_STEMS = {"jobs", "queues", "workers", "leader", "queue_rate_limits", "alembic_version"}


async def table_stems(app: Chancy) -> set[str]:
    """The prefix's tables without the prefix (the version table included)."""

    def names(conn: sa.Connection) -> list[str]:
        return sa.inspect(conn).get_table_names()

    async with app.engine.connect() as conn:
        found = await conn.run_sync(names)
    return {n.removeprefix(app.prefix) for n in found if n.startswith(app.prefix)}


def mapped_tables(models: Any) -> set[str]:
    """The table names of the mapped classes held by a ``Models``-like dataclass."""
    values = (getattr(models, field.name) for field in dataclasses.fields(models))
    return {v.__table__.name for v in values if isinstance(v, type) and hasattr(v, "__table__")}


async def diff_with(app: Chancy, *builders: Callable[[Any], Any]) -> list[Any]:
    """``compare_metadata`` between the prefix's tables and core + ``builders``' models.

    Builders register on the prefix's shared MetaData, which is cached per prefix: a
    pooled prefix may carry another plugin's models from an earlier test, so only the
    core tables and ``builders``' own tables take part.
    """
    models = build_models(app.prefix)
    wanted = set().union(*(mapped_tables(m) for m in (models, *(b(models) for b in builders))))
    prefix = app.prefix

    def include_name(name: str | None, type_: str, parent: Any) -> bool:
        if type_ == "table":
            return bool(name and name.startswith(prefix) and name != f"{prefix}alembic_version")
        return True

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        return type_ != "table" or reflected or name in wanted

    def compare(conn: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_name": include_name,
                "include_object": include_object,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        return compare_metadata(context, models.metadata)

    async with app.engine.connect() as conn:
        return await conn.run_sync(compare)


async def diff_against(app: Chancy, plugin: Any) -> list[Any]:
    """:func:`diff_with` for one plugin object, by its Alembic branch."""
    from chancy.plugins.metrics.models import build_metrics_models
    from chancy.plugins.workflow.models import build_workflow_models

    builders = {
        "metrics": build_metrics_models,
        "workflow": build_workflow_models,
    }
    return await diff_with(app, builders[plugin.migrations_branch])
