"""The Trigger plugin's registry: one row per database trigger that pushes jobs.

The row is the trigger's configuration: the installed Postgres trigger only passes the
row's id to ``{prefix}trigger_handler()``, which reads the template, the ``enabled``
flag and the kwargs mapping from here on every firing. Enabling, disabling or editing a
trigger is therefore an ordinary transactional UPDATE, with no DDL and no lock on the
user's table. Constraint names are spelled out because the naming convention's
``uq_<table>_<all columns>`` would pass Postgres' 63-byte limit with a long prefix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from chancy.db.models import (
    TZ,
    PluginModels,
    Prefixed,
    per_prefix,
    table_prefix,
)

__all__ = ["TriggerModels", "build_trigger_models"]


class TriggerFields(Prefixed):
    __table_stem__ = "triggers"

    id: Mapped[uuid.UUID] = mapped_column(
        pg.UUID(as_uuid=True), primary_key=True, server_default=sa.func.gen_random_uuid()
    )
    table_name: Mapped[str] = mapped_column(sa.Text)
    schema_name: Mapped[str] = mapped_column(sa.Text, server_default="public")
    trigger_name: Mapped[str] = mapped_column(sa.Text)
    #: A JSON list of ``INSERT``, ``UPDATE``, ``DELETE``, ``TRUNCATE``.
    operations: Mapped[list[str]] = mapped_column(pg.JSONB)
    #: The packed :class:`~chancy.job.Job` (``Job.pack()``) each firing pushes.
    job_template: Mapped[dict[str, Any]] = mapped_column(pg.JSONB)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    created_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())
    #: ``statement`` (one job per statement) or ``row`` (one job per affected row).
    level: Mapped[str] = mapped_column(sa.Text, server_default="statement")
    #: Row-level only: ``{kwarg: column}``, values copied from the row into the kwargs.
    row_kwargs: Mapped[dict[str, str]] = mapped_column(pg.JSONB, server_default=sa.text("'{}'"))
    #: When set, the kwarg receiving the operation (``INSERT``, ``UPDATE`` ...).
    operation_kwarg: Mapped[str | None] = mapped_column(sa.Text)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = table_prefix(cls) + cls.__table_stem__
        return (
            sa.UniqueConstraint(
                "schema_name", "table_name", "trigger_name", name=f"uq_{name}_target"
            ),
            # Named "level"; the convention makes it ck_<table>_level.
            sa.CheckConstraint("level IN ('statement', 'row')", name="level"),
            # Listing the active triggers of a table.
            sa.Index(
                f"ix_{name}_enabled",
                "schema_name",
                "table_name",
                postgresql_where=sa.text("enabled"),
            ),
        )


@dataclasses.dataclass(frozen=True)
class TriggerModels(PluginModels):
    Trigger: type[Any]


#: The Trigger plugin's models for a prefix, mapped on the prefix's core registry.
build_trigger_models = per_prefix(TriggerModels, Trigger=TriggerFields)
