"""Declarative models, built once per table prefix.

SQLAlchemy has no table-name translation, so following the ORM's own advice for "one
class, many tables" each prefix gets its own registry: :func:`build_models` creates a
fresh declarative base whose ``MetaData.info`` carries the prefix (the naming hook read by
every ``__tablename__``) and whose naming convention includes the table name, so indexes
and constraints are prefixed too and two apps never collide in one schema.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from chancy.config import validate_prefix
from chancy.queue import DEFAULT_EXECUTOR

__all__ = [
    "NAMING_CONVENTION",
    "Models",
    "PluginModels",
    "build_models",
    "per_prefix",
    "table_prefix",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Job states in which a unique key is "occupied" and a job is not finished.
ACTIVE_STATES = ("pending", "running", "retrying")
#: States a worker may claim from.
READY_STATES = ("pending", "retrying")
FINISHED_STATES = ("succeeded", "failed")

#: Storage parameters of the jobs table (also set by core revision core_0001).
JOBS_STORAGE = {
    "fillfactor": "70",
    "autovacuum_vacuum_scale_factor": "0.02",
    "autovacuum_analyze_scale_factor": "0.02",
    "autovacuum_vacuum_cost_delay": "1",
}

TZ = sa.DateTime(timezone=True)


def table_prefix(cls: Any) -> str:
    return cls.metadata.info["table_prefix"]


def _in(column: str, states: tuple[str, ...]) -> sa.TextClause:
    # Index predicates must be literal SQL; the states are constants, never user input.
    return sa.text(f"{column} IN ({', '.join(repr(s) for s in states)})")


class Prefixed:
    """Mixin: ``__tablename__`` is the registry's prefix plus ``__table_stem__``."""

    __table_stem__: str

    @declared_attr.directive
    def __tablename__(cls) -> str:
        return table_prefix(cls) + cls.__table_stem__


class JobFields(Prefixed):
    __table_stem__ = "jobs"

    id: Mapped[uuid.UUID] = mapped_column(pg.UUID(as_uuid=True), primary_key=True)
    queue: Mapped[str] = mapped_column(sa.Text)
    func: Mapped[str] = mapped_column(sa.Text)
    kwargs: Mapped[dict[str, Any]] = mapped_column(pg.JSONB, server_default=sa.text("'{}'"))
    limits: Mapped[list[Any]] = mapped_column(pg.JSONB, server_default=sa.text("'[]'"))
    meta: Mapped[dict[str, Any]] = mapped_column(pg.JSONB, server_default=sa.text("'{}'"))
    state: Mapped[str] = mapped_column(sa.String(25), server_default="pending")
    priority: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    attempts: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    max_attempts: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    taken_by: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())
    started_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    completed_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    scheduled_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())
    unique_key: Mapped[str | None] = mapped_column(sa.Text)
    errors: Mapped[list[Any]] = mapped_column(pg.JSONB, server_default=sa.text("'[]'"))
    #: A fresh id per claim. Completions, recovery and cancellation match on it, so a late
    #: result from an old claim can never overwrite the job's newer state.
    claim_id: Mapped[uuid.UUID | None] = mapped_column(pg.UUID(as_uuid=True))
    #: The job's stored return value (JSON), or NULL when none was stored.
    result: Mapped[Any | None] = mapped_column(pg.JSONB)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        name = table_prefix(cls) + cls.__table_stem__
        return (
            # The claim path: only ready rows, in claim order, so a claim stays fast
            # however many finished rows the table holds.
            sa.Index(
                f"ix_{name}_fetch",
                "queue",
                sa.text("priority DESC"),
                "id",
                postgresql_where=_in("state", READY_STATES),
            ),
            # At most one active job per unique key; the push's ON CONFLICT targets it.
            sa.Index(
                f"ix_{name}_unique_key",
                "unique_key",
                unique=True,
                postgresql_where=sa.text(
                    "unique_key IS NOT NULL AND " + str(_in("state", ACTIVE_STATES))
                ),
            ),
            # Admin listings and the metrics collectors filter by these.
            sa.Index(f"ix_{name}_queue_state", "queue", "state"),
            # The pruner and the metrics read finished rows by completion time. Partial,
            # so a push, a claim or a retry (no finished state) adds no entry to it: one
            # index insert less per claimed row (core_0004).
            sa.Index(
                f"ix_{name}_state_completed_at",
                "state",
                "completed_at",
                postgresql_where=_in("state", FINISHED_STATES),
            ),
            # Recovery finds running jobs of dead workers.
            sa.Index(
                f"ix_{name}_running",
                "taken_by",
                postgresql_where=sa.text("state = 'running'"),
            ),
            # Rows are updated in place constantly: room on each page for HOT updates,
            # and far more eager vacuuming than the defaults.
            {"postgresql_with": JOBS_STORAGE},
        )


class QueueFields(Prefixed):
    __table_stem__ = "queues"

    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    state: Mapped[str] = mapped_column(sa.Text, server_default="active")
    concurrency: Mapped[int | None] = mapped_column(sa.Integer)
    tags: Mapped[list[str] | None] = mapped_column(pg.ARRAY(sa.Text))
    executor: Mapped[str] = mapped_column(sa.Text, server_default=DEFAULT_EXECUTOR)
    executor_options: Mapped[dict[str, Any] | None] = mapped_column(pg.JSONB)
    polling_interval: Mapped[float | None] = mapped_column(sa.Float, server_default="5")
    created_at: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())
    rate_limit: Mapped[int | None] = mapped_column(sa.Integer)
    rate_limit_window: Mapped[int | None] = mapped_column(sa.Integer)
    resume_at: Mapped[dt.datetime | None] = mapped_column(TZ)
    eager_polling: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    #: Caps the stored result of this queue's jobs (NULL: the app's default).
    max_result_bytes: Mapped[int | None] = mapped_column(sa.Integer)


class WorkerFields(Prefixed):
    __table_stem__ = "workers"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    worker_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    tags: Mapped[list[str] | None] = mapped_column(pg.ARRAY(sa.Text))
    queues: Mapped[list[str] | None] = mapped_column(pg.ARRAY(sa.Text))
    last_seen: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(TZ)


class LeaderFields(Prefixed):
    """The leadership lease: one row (id 1) naming the leader until ``expires_at``."""

    __table_stem__ = "leader"

    id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    worker_id: Mapped[str] = mapped_column(sa.Text, unique=True)
    first_seen: Mapped[dt.datetime] = mapped_column(TZ, server_default=sa.func.now())
    expires_at: Mapped[dt.datetime] = mapped_column(TZ)

    @declared_attr.directive
    def __table_args__(cls) -> dict[str, Any]:
        return {"prefixes": ["UNLOGGED"]}


class QueueRateLimitFields(Prefixed):
    """A fixed window counter per rate-limited queue, shared by every worker."""

    __table_stem__ = "queue_rate_limits"
    __table_args__ = {"prefixes": ["UNLOGGED"]}

    queue: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    window_start: Mapped[int] = mapped_column(sa.BigInteger)
    count: Mapped[int] = mapped_column(sa.Integer, server_default="0")


@dataclasses.dataclass(frozen=True)
class Models:
    """The mapped classes of one prefix. Public: query and join them with your own session."""

    prefix: str
    metadata: sa.MetaData
    Base: type[DeclarativeBase]
    Job: type[Any]
    Queue: type[Any]
    Worker: type[Any]
    Leader: type[Any]
    QueueRateLimit: type[Any]

    @property
    def channel(self) -> str:
        """The LISTEN/NOTIFY channel of this prefix."""
        return f"{self.prefix}events"

    @property
    def version_table(self) -> str:
        return f"{self.prefix}alembic_version"


def map_fields(name: str, fields: type, base: type) -> type[Any]:
    """A mapped class ``name`` of ``fields`` on ``base``'s registry (one prefix).

    Plugins map their own field mixins on the core ``Base`` with this, so their tables
    share the prefix's MetaData (foreign keys resolve, drift checks see them).
    """
    return type(name, (fields, base), {"__module__": fields.__module__, "__qualname__": name})


@functools.cache
def build_models(prefix: str = "chancy_") -> Models:
    """The models of ``prefix``; cached, so every caller shares one registry per prefix."""
    validate_prefix(prefix)
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION, info={"table_prefix": prefix})
    base = type("Base", (DeclarativeBase,), {"metadata": metadata, "__abstract__": True})
    return Models(
        prefix=prefix,
        metadata=metadata,
        Base=base,
        Job=map_fields("Job", JobFields, base),
        Queue=map_fields("Queue", QueueFields, base),
        Worker=map_fields("Worker", WorkerFields, base),
        Leader=map_fields("Leader", LeaderFields, base),
        QueueRateLimit=map_fields("QueueRateLimit", QueueRateLimitFields, base),
    )


@dataclasses.dataclass(frozen=True)
class PluginModels:
    """A plugin's mapped classes for one prefix; subclasses add one field per class."""

    core: Models


PluginModelsT = TypeVar("PluginModelsT", bound=PluginModels)


def per_prefix(cls: type[PluginModelsT], **fields: type) -> Callable[[Models], PluginModelsT]:
    """A plugin's model builder: ``cls`` with each of ``fields`` mapped, once per prefix.

    ``per_prefix(CronModels, Cron=CronFields)`` maps ``CronFields`` as class ``Cron`` on
    the prefix's core ``Base`` (one MetaData, one naming convention, foreign keys that
    resolve). A registry accepts each class name once, so the mapping runs on the first
    call for a prefix and every later call, from any ``Models`` of that prefix, gets the
    same result.
    """

    @functools.cache
    def for_prefix(prefix: str) -> PluginModelsT:
        core = build_models(prefix)
        mapped = {name: map_fields(name, mixin, core.Base) for name, mixin in fields.items()}
        return cls(core=core, **mapped)

    def builder(models: Models) -> PluginModelsT:
        return for_prefix(models.prefix)

    builder.__doc__ = f"The {cls.__name__} of a prefix, on its core registry."
    return builder
