"""The Trigger plugin: push a job whenever rows of one of your tables change.

A Postgres trigger on your table calls ``{prefix}trigger_handler()`` (created by this
plugin's migration), which inserts a job built from a stored template into the same
transaction as your change: the job exists if and only if the change commits, and
workers are woken by the usual ``queue.pushed`` notification.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chancy.errors import ConfigurationError
from chancy.job import IsAJob, Job, as_job
from chancy.plugin import Plugin
from chancy.plugins.trigger import statements as trigger_sql
from chancy.plugins.trigger.models import build_trigger_models

if TYPE_CHECKING:
    from chancy.app import Chancy
    from chancy.app.core import AsyncConnectionLike

__all__ = ["Trigger", "TriggerConfig"]


@dataclasses.dataclass(frozen=True)
class TriggerConfig:
    """A registered trigger, as returned by :meth:`Trigger.get_triggers`."""

    id: uuid.UUID
    schema_name: str
    table_name: str
    trigger_name: str
    operations: list[str]
    job_template: Job
    enabled: bool
    created_at: dt.datetime
    #: ``statement`` or ``row``.
    level: str
    row_kwargs: dict[str, str]
    operation_kwarg: str | None

    @classmethod
    def from_row(cls, row: Any) -> TriggerConfig:
        return cls(
            id=row.id,
            schema_name=row.schema_name,
            table_name=row.table_name,
            trigger_name=row.trigger_name,
            operations=list(row.operations),
            job_template=Job.unpack(row.job_template),
            enabled=row.enabled,
            created_at=row.created_at,
            level=row.level,
            row_kwargs=dict(row.row_kwargs),
            operation_kwarg=row.operation_kwarg,
        )


class Trigger(Plugin):
    """Manage database triggers that push jobs (experimental, as upstream).

    Enable the plugin so :meth:`Chancy.migrate` creates its table and function, then
    register triggers; the plugin itself runs no loop, the database does the work::

        await Trigger.register_trigger(
            chancy,
            table_name="orders",
            operations=["INSERT", "UPDATE"],
            job_template=Job.from_func(sync_orders, unique_key="sync-orders"),
        )

    What the pushed job receives:

    * ``kwargs``: the template's kwargs; plus, for ``level="row"`` triggers, one kwarg
      per ``row_kwargs`` entry ``{kwarg: column}`` holding that column of the new row
      (of the old row for DELETE), as JSON; plus, when ``operation_kwarg`` is set, that
      kwarg holding ``"INSERT"``, ``"UPDATE"``, ``"DELETE"`` or ``"TRUNCATE"``.
    * ``meta["trigger"]``: ``{id, operation, level, table_name, schema_name,
      trigger_name, timestamp}``.

    A ``statement`` trigger (the default) pushes one job per SQL statement, even one
    that changed no row; a ``row`` trigger pushes one per affected row. A template with
    a ``unique_key`` pushes nothing while a job with that key is still active, which
    turns a burst of changes into one job. The function runs with the privileges of the
    role changing the table, which needs INSERT on ``{prefix}jobs`` and SELECT on
    ``{prefix}triggers``.
    """

    migrations_branch = "trigger"

    @staticmethod
    def get_identifier() -> str:
        return "chancy.trigger"

    def get_tables(self) -> list[str]:
        return ["triggers"]

    # -- registration ------------------------------------------------------------------
    @classmethod
    async def register_trigger(
        cls,
        chancy: Chancy,
        *,
        table_name: str,
        operations: Sequence[str],
        job_template: Job | IsAJob[Any],
        schema_name: str = "public",
        trigger_name: str | None = None,
        enabled: bool = True,
        level: str = "statement",
        row_kwargs: Mapping[str, str] | None = None,
        operation_kwarg: str | None = None,
    ) -> uuid.UUID:
        """Install a trigger on ``schema_name.table_name``; returns its id.

        ``trigger_name`` defaults to ``{prefix}trigger_<id>``. See the class docstring
        for what the jobs receive. Transactional twin: :meth:`register_trigger_ex`.
        """
        return await chancy.in_transaction(
            lambda conn: cls.register_trigger_ex(
                chancy,
                conn,
                table_name=table_name,
                operations=operations,
                job_template=job_template,
                schema_name=schema_name,
                trigger_name=trigger_name,
                enabled=enabled,
                level=level,
                row_kwargs=row_kwargs,
                operation_kwarg=operation_kwarg,
            )
        )

    @classmethod
    async def register_trigger_ex(
        cls,
        chancy: Chancy,
        cursor: AsyncConnectionLike,
        *,
        table_name: str,
        operations: Sequence[str],
        job_template: Job | IsAJob[Any],
        schema_name: str = "public",
        trigger_name: str | None = None,
        enabled: bool = True,
        level: str = "statement",
        row_kwargs: Mapping[str, str] | None = None,
        operation_kwarg: str | None = None,
    ) -> uuid.UUID:
        """:meth:`register_trigger` inside the caller's transaction (never commits)."""
        template = as_job(job_template)
        template.validate()
        ops = _operations(operations, level)
        kwargs_map = _row_kwargs(row_kwargs, level)
        if operation_kwarg is not None:
            trigger_sql.check_identifier("operation_kwarg", operation_kwarg)
        trigger_id = uuid.uuid4()
        name = trigger_name or f"{chancy.prefix}trigger_{trigger_id.hex[:16]}"
        trigger_sql.check_identifier("schema name", schema_name)
        trigger_sql.check_identifier("table name", table_name)
        trigger_sql.check_identifier("trigger name", name)
        cursor = chancy._executable(cursor)  # a psycopg connection or cursor works too
        columns = (
            await cursor.execute(trigger_sql.build_table_columns(schema_name, table_name))
        ).scalars()
        known = set(columns)
        if not known:
            raise ConfigurationError(
                f"No table {schema_name}.{table_name} to put a trigger on (names are "
                "case-sensitive; views and foreign tables are not supported)."
            )
        missing = sorted(set(kwargs_map.values()) - known)
        if missing:
            raise ConfigurationError(
                f"row_kwargs names columns {missing} that {schema_name}.{table_name} "
                f"does not have; it has {sorted(known)}."
            )
        tm = build_trigger_models(chancy.models)
        await cursor.execute(
            trigger_sql.build_insert(
                tm,
                {
                    "id": trigger_id,
                    "schema_name": schema_name,
                    "table_name": table_name,
                    "trigger_name": name,
                    "operations": ops,
                    "job_template": template.pack(),
                    "enabled": enabled,
                    "level": level,
                    "row_kwargs": kwargs_map,
                    "operation_kwarg": operation_kwarg,
                },
            )
        )
        await cursor.execute(
            trigger_sql.build_create_trigger(
                chancy.prefix,
                trigger_id=trigger_id,
                schema_name=schema_name,
                table_name=table_name,
                trigger_name=name,
                operations=ops,
                level=level,
            )
        )
        return trigger_id

    @classmethod
    async def unregister_trigger(cls, chancy: Chancy, trigger_id: uuid.UUID | str) -> bool:
        """Drop the trigger and forget it; False if no such trigger was registered."""
        return await chancy.in_transaction(
            lambda conn: cls.unregister_trigger_ex(chancy, conn, trigger_id)
        )

    @classmethod
    async def unregister_trigger_ex(
        cls, chancy: Chancy, cursor: AsyncConnectionLike, trigger_id: uuid.UUID | str
    ) -> bool:
        """:meth:`unregister_trigger` inside the caller's transaction (never commits).

        The Postgres trigger is found through the catalog, so it is dropped even if its
        table was renamed since it was registered.
        """
        ident = _uuid(trigger_id)
        tm = build_trigger_models(chancy.models)
        cursor = chancy._executable(cursor)
        if (await cursor.execute(trigger_sql.build_lock(tm, ident))).first() is None:
            return False
        installed = (
            await cursor.execute(trigger_sql.build_installed(chancy.prefix, [ident]))
        ).all()
        for row in installed:
            await cursor.execute(
                trigger_sql.build_drop_trigger(row.schema_name, row.table_name, row.trigger_name)
            )
        await cursor.execute(trigger_sql.build_delete(tm, ident))
        return True

    @classmethod
    async def enable_trigger(cls, chancy: Chancy, trigger_id: uuid.UUID | str) -> bool:
        """Resume pushing jobs; False if no such trigger. No DDL, no lock on the table."""
        return await chancy.in_transaction(
            lambda conn: cls.enable_trigger_ex(chancy, conn, trigger_id)
        )

    @classmethod
    async def enable_trigger_ex(
        cls, chancy: Chancy, cursor: AsyncConnectionLike, trigger_id: uuid.UUID | str
    ) -> bool:
        return await cls._set_enabled(chancy, cursor, trigger_id, True)

    @classmethod
    async def disable_trigger(cls, chancy: Chancy, trigger_id: uuid.UUID | str) -> bool:
        """Stop pushing jobs (the trigger stays installed); False if no such trigger."""
        return await chancy.in_transaction(
            lambda conn: cls.disable_trigger_ex(chancy, conn, trigger_id)
        )

    @classmethod
    async def disable_trigger_ex(
        cls, chancy: Chancy, cursor: AsyncConnectionLike, trigger_id: uuid.UUID | str
    ) -> bool:
        return await cls._set_enabled(chancy, cursor, trigger_id, False)

    @classmethod
    async def _set_enabled(
        cls, chancy: Chancy, cursor: AsyncConnectionLike, trigger_id: uuid.UUID | str, enabled: bool
    ) -> bool:
        tm = build_trigger_models(chancy.models)
        stmt = trigger_sql.build_set_enabled(tm, _uuid(trigger_id), enabled)
        return (await chancy._executable(cursor).execute(stmt)).first() is not None

    @classmethod
    async def get_triggers(
        cls, chancy: Chancy, *, trigger_ids: Sequence[uuid.UUID | str] | None = None
    ) -> dict[uuid.UUID, TriggerConfig]:
        """Registered triggers by id, oldest first: all, or those in ``trigger_ids``."""
        async with chancy.engine.connect() as conn:
            return await cls.get_triggers_ex(chancy, conn, trigger_ids=trigger_ids)

    @classmethod
    async def get_triggers_ex(
        cls,
        chancy: Chancy,
        cursor: AsyncConnectionLike,
        *,
        trigger_ids: Sequence[uuid.UUID | str] | None = None,
    ) -> dict[uuid.UUID, TriggerConfig]:
        tm = build_trigger_models(chancy.models)
        ids = None if trigger_ids is None else [_uuid(i) for i in trigger_ids]
        rows = (await chancy._executable(cursor).execute(trigger_sql.build_select(tm, ids))).all()
        return {row.id: TriggerConfig.from_row(row) for row in rows}


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError as exc:
        raise ConfigurationError(f"{value!r} is not a trigger id (a UUID).") from exc


def _operations(operations: Sequence[str], level: str) -> list[str]:
    if level not in trigger_sql.LEVELS:
        raise ConfigurationError(f"level must be 'statement' or 'row', got {level!r}.")
    if isinstance(operations, str):
        operations = [operations]
    ops = list(dict.fromkeys(str(op).upper() for op in operations))
    bad = [op for op in ops if op not in trigger_sql.OPERATIONS]
    if not ops or bad:
        raise ConfigurationError(
            f"operations must be some of {', '.join(trigger_sql.OPERATIONS)}; got "
            f"{list(operations)!r}."
        )
    if level == "row" and "TRUNCATE" in ops:
        raise ConfigurationError("TRUNCATE triggers can only be statement-level.")
    return ops


def _row_kwargs(row_kwargs: Mapping[str, str] | None, level: str) -> dict[str, str]:
    mapping = dict(row_kwargs or {})
    if mapping and level != "row":
        raise ConfigurationError(
            "row_kwargs copies columns of the changed row, so it needs level='row'."
        )
    for kwarg, column in mapping.items():
        trigger_sql.check_identifier("row_kwargs key", kwarg)
        trigger_sql.check_identifier("row_kwargs column", column)
    return mapping
