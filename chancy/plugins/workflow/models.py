"""The WorkflowPlugin's tables: workflows and their steps.

A step's ``state`` caches its job's last known state, so a workflow still knows a step
finished after the pruner deleted the job row (upstream re-read it from the jobs table on
every pass and stalled when the row was gone). Constraint names are spelled out because
the convention's ``uq_<table>_<all columns>`` would pass Postgres' 63-byte limit with a
long prefix.
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

__all__ = ["ACTIVE_WORKFLOW_STATES", "WorkflowModels", "build_workflow_models"]

#: Workflows still being processed.
ACTIVE_WORKFLOW_STATES = ("pending", "running")


class WorkflowFields(Prefixed):
    __table_stem__ = "workflows"

    id: Mapped[uuid.UUID] = mapped_column(pg.UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = table_prefix(cls) + cls.__table_stem__
        return (
            sa.Index(f"ix_{name}_state", "state"),
            # The leader's sweep pages through active workflows by id.
            sa.Index(
                f"ix_{name}_active",
                "id",
                postgresql_where=sa.text("state IN ('pending', 'running')"),
            ),
        )


class WorkflowStepFields(Prefixed):
    __table_stem__ = "workflow_steps"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)
    step_id: Mapped[str] = mapped_column(sa.Text)
    #: The packed :class:`~chancy.job.Job` (``Job.pack()``).
    job_data: Mapped[dict[str, Any]] = mapped_column(pg.JSONB)
    #: Step ids this step waits for, as a JSON array.
    dependencies: Mapped[list[str]] = mapped_column(pg.JSONB)
    #: The job pushed for this step; no foreign key, jobs are pruned independently.
    job_id: Mapped[uuid.UUID | None] = mapped_column(pg.UUID(as_uuid=True))
    #: The job's last state seen by the plugin; NULL until the job is pushed.
    state: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())

    @declared_attr
    def workflow_id(cls) -> Mapped[uuid.UUID]:
        prefix = table_prefix(cls)
        return mapped_column(
            pg.UUID(as_uuid=True),
            sa.ForeignKey(
                f"{prefix}workflows.id",
                ondelete="CASCADE",
                name=f"fk_{prefix}workflow_steps_workflow",
            ),
        )

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = table_prefix(cls) + cls.__table_stem__
        # Also serves lookups by workflow_id (its leading column).
        return (sa.UniqueConstraint("workflow_id", "step_id", name=f"uq_{name}_step"),)


@dataclasses.dataclass(frozen=True)
class WorkflowModels(PluginModels):
    Workflow: type[Any]
    WorkflowStep: type[Any]


#: The WorkflowPlugin's models for a prefix, mapped on the prefix's core registry.
build_workflow_models = per_prefix(
    WorkflowModels, Workflow=WorkflowFields, WorkflowStep=WorkflowStepFields
)
