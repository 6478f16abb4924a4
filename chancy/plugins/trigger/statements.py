"""Statements of the Trigger plugin: the registry rows and the DDL of users' triggers.

``CREATE TRIGGER`` cannot take bind parameters for names, so this module builds its text
itself, from names checked by :func:`check_identifier` and always double-quoted by
:func:`quote_identifier`: a table called ``Order Lines`` or ``a"b`` is addressed exactly,
never interpreted. Everything else is bound.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from chancy.config import validate_prefix
from chancy.db.statements._sql import TEXTS, UUIDS
from chancy.errors import ConfigurationError
from chancy.plugins.trigger.models import TriggerModels

#: Operations a trigger can fire on; TRUNCATE only exists for statement-level triggers.
OPERATIONS = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")
LEVELS = ("statement", "row")
#: Postgres truncates longer identifiers, which would make a name silently mean another.
MAX_IDENTIFIER_BYTES = 63

_pg_trigger = sa.table(
    "pg_trigger",
    sa.column("tgrelid"),
    sa.column("tgname"),
    sa.column("tgfoid"),
    sa.column("tgargs"),
    sa.column("tgisinternal"),
    sa.column("tgenabled"),
    schema="pg_catalog",
)
_pg_class = sa.table(
    "pg_class",
    sa.column("oid"),
    sa.column("relname"),
    sa.column("relnamespace"),
    sa.column("relkind"),
    schema="pg_catalog",
)
_pg_namespace = sa.table(
    "pg_namespace", sa.column("oid"), sa.column("nspname"), schema="pg_catalog"
)
_pg_attribute = sa.table(
    "pg_attribute",
    sa.column("attrelid"),
    sa.column("attname"),
    sa.column("attnum"),
    sa.column("attisdropped"),
    schema="pg_catalog",
)


def check_identifier(kind: str, name: object) -> str:
    """``name`` if Postgres would store it unchanged, else a ConfigurationError."""
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"The {kind} must be a non-empty string, got {name!r}.")
    if "\x00" in name:
        raise ConfigurationError(f"The {kind} {name!r} contains a NUL character.")
    if len(name.encode()) > MAX_IDENTIFIER_BYTES:
        raise ConfigurationError(
            f"The {kind} {name!r} is {len(name.encode())} bytes; Postgres identifiers are "
            f"limited to {MAX_IDENTIFIER_BYTES} (longer ones are silently truncated)."
        )
    return name


def quote_identifier(name: str) -> str:
    """A double-quoted identifier, escaped for both SQL and ``text()``'s ``:name`` syntax."""
    return '"' + name.replace('"', '""').replace(":", r"\:") + '"'


def handler_name(prefix: str) -> str:
    """The prefix's trigger function, created by the ``trigger`` branch's migration."""
    return f"{validate_prefix(prefix)}trigger_handler"


def build_create_trigger(
    prefix: str,
    *,
    trigger_id: uuid.UUID,
    schema_name: str,
    table_name: str,
    trigger_name: str,
    operations: Sequence[str],
    level: str,
) -> sa.TextClause:
    """``CREATE TRIGGER`` calling the handler with the registry row's id as its argument."""
    if not operations or any(op not in OPERATIONS for op in operations):
        raise ConfigurationError(
            f"operations must be a non-empty list of {', '.join(OPERATIONS)}; got {operations!r}."
        )
    if level not in LEVELS:
        raise ConfigurationError(f"level must be one of {LEVELS}, got {level!r}.")
    events = " OR ".join(dict.fromkeys(operations))
    target = ".".join(
        quote_identifier(check_identifier(kind, name))
        for kind, name in (("schema name", schema_name), ("table name", table_name))
    )
    return sa.text(
        f"CREATE TRIGGER {quote_identifier(check_identifier('trigger name', trigger_name))} "
        f"AFTER {events} ON {target} FOR EACH {level.upper()} "
        f"EXECUTE FUNCTION {handler_name(prefix)}('{uuid.UUID(str(trigger_id))}')"
    )


def build_drop_trigger(schema_name: str, table_name: str, trigger_name: str) -> sa.TextClause:
    """Drop one trigger; a missing trigger (or table) is not an error."""
    return sa.text(
        f"DROP TRIGGER IF EXISTS {quote_identifier(check_identifier('trigger name', trigger_name))}"
        f" ON {quote_identifier(check_identifier('schema name', schema_name))}"
        f".{quote_identifier(check_identifier('table name', table_name))}"
    )


def build_installed(prefix: str, trigger_ids: Sequence[uuid.UUID] | None = None) -> sa.Select[Any]:
    """The Postgres triggers calling this prefix's handler, with the registry id each passes.

    Read from the catalog rather than the registry, so a trigger is found even after its
    table was renamed or moved to another schema.
    """
    # The single argument, a UUID's 36 characters (tgargs ends each argument with a NUL).
    registry_id = sa.func.convert_from(sa.func.substring(_pg_trigger.c.tgargs, 1, 36), "UTF8")
    stmt = (
        sa.select(
            registry_id.label("trigger_id"),
            _pg_namespace.c.nspname.label("schema_name"),
            _pg_class.c.relname.label("table_name"),
            _pg_trigger.c.tgname.label("trigger_name"),
        )
        .select_from(_pg_trigger)
        .join(_pg_class, _pg_class.c.oid == _pg_trigger.c.tgrelid)
        .join(_pg_namespace, _pg_namespace.c.oid == _pg_class.c.relnamespace)
        .where(
            _pg_trigger.c.tgfoid == sa.func.to_regprocedure(f"{handler_name(prefix)}()"),
            sa.not_(_pg_trigger.c.tgisinternal),
        )
        .order_by(registry_id)
    )
    if trigger_ids is not None:
        stmt = stmt.where(
            registry_id == sa.any_(sa.bindparam("ids", [str(i) for i in trigger_ids], TEXTS))
        )
    return stmt


def build_table_columns(schema_name: str, table_name: str) -> sa.Select[Any]:
    """The live column names of an ordinary or partitioned table (no rows: no such table)."""
    return (
        sa.select(_pg_attribute.c.attname)
        .select_from(_pg_attribute)
        .join(_pg_class, _pg_class.c.oid == _pg_attribute.c.attrelid)
        .join(_pg_namespace, _pg_namespace.c.oid == _pg_class.c.relnamespace)
        .where(
            _pg_namespace.c.nspname == schema_name,
            _pg_class.c.relname == table_name,
            _pg_class.c.relkind.in_(["r", "p"]),
            _pg_attribute.c.attnum > 0,
            sa.not_(_pg_attribute.c.attisdropped),
        )
        .order_by(_pg_attribute.c.attnum)
    )


def build_insert(tm: TriggerModels, values: dict[str, Any]) -> sa.Insert:
    table = tm.Trigger.__table__
    return sa.insert(table).values(**values).returning(table.c.id)


def _by_ids(tm: TriggerModels, trigger_ids: Sequence[uuid.UUID]) -> sa.ColumnElement[bool]:
    table = tm.Trigger.__table__
    return table.c.id == sa.any_(sa.bindparam("ids", list(trigger_ids), UUIDS))


def build_select(
    tm: TriggerModels, trigger_ids: Sequence[uuid.UUID] | None = None
) -> sa.Select[Any]:
    """Registry rows, oldest first; all of them when ``trigger_ids`` is None."""
    table = tm.Trigger.__table__
    stmt = sa.select(table).order_by(table.c.created_at, table.c.id)
    if trigger_ids is not None:
        stmt = stmt.where(_by_ids(tm, trigger_ids))
    return stmt


def build_lock(tm: TriggerModels, trigger_id: uuid.UUID) -> sa.Select[Any]:
    """One registry row, locked until the caller's transaction ends."""
    table = tm.Trigger.__table__
    return sa.select(table).where(_by_ids(tm, [trigger_id])).with_for_update()


def build_set_enabled(tm: TriggerModels, trigger_id: uuid.UUID, enabled: bool) -> sa.Update:
    table = tm.Trigger.__table__
    return (
        sa.update(table)
        .where(_by_ids(tm, [trigger_id]))
        .values(enabled=enabled)
        .returning(table.c.id)
    )


def build_delete(tm: TriggerModels, trigger_id: uuid.UUID) -> sa.Delete:
    table = tm.Trigger.__table__
    return sa.delete(table).where(_by_ids(tm, [trigger_id])).returning(table.c.id)
