"""Catalog reading for the migration tests: what a prefix really has in Postgres.

Raw SQL against ``pg_catalog`` is fine here: these tests check the database itself, not
chancy's statements.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from chancy.plugins.tables import full_metadata

_TABLES = sa.text(
    """
    SELECT relname, relpersistence, coalesce(reloptions, '{}') FROM pg_class
    WHERE relnamespace = current_schema()::regnamespace AND relkind IN ('r', 'p')
      AND starts_with(relname, :prefix)
    """
)
_TRIGGERS = sa.text(
    "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
    "WHERE tgrelid = to_regclass(:table) AND NOT tgisinternal"
)
_FUNCTIONS = sa.text(
    """
    SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p
    WHERE p.pronamespace = current_schema()::regnamespace AND starts_with(p.proname, :prefix)
    """
)
_COLUMNS = sa.text(
    """
    SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
           pg_get_expr(d.adbin, d.adrelid)
    FROM pg_attribute a
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE a.attrelid = to_regclass(:table) AND a.attnum > 0 AND NOT a.attisdropped
    """
)
_INDEXES = sa.text(
    "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass(:table)"
)
_CONSTRAINTS = sa.text(
    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE conrelid = to_regclass(:table)"
)


def tables(conn: sa.Connection, prefix: str) -> set[str]:
    """Names of the tables of ``prefix``, the version table included."""
    return {row[0] for row in conn.execute(_TABLES, {"prefix": prefix})}


def functions(conn: sa.Connection, prefix: str) -> dict[str, str]:
    """Functions named with ``prefix`` (plugins may create some), signature to definition."""
    return {sig: body for sig, body in conn.execute(_FUNCTIONS, {"prefix": prefix})}


def leftovers(conn: sa.Connection, prefix: str) -> set[str]:
    """Every table and function of ``prefix``: empty once the prefix is removed."""
    return tables(conn, prefix) | set(functions(conn, prefix))


def index_and_constraint_names(conn: sa.Connection, prefix: str) -> set[str]:
    """The names of every index and constraint on the tables of ``prefix``, as stored."""
    names: set[str] = set()
    for table in tables(conn, prefix):
        for query in (_INDEXES, _CONSTRAINTS):
            names |= {row[0] for row in conn.execute(query, {"table": table})}
    return names


def stems(conn: sa.Connection, prefix: str) -> set[str]:
    """Table names of ``prefix`` without it: ``{"jobs", "queues", "alembic_version", ...}``."""
    return {name.removeprefix(prefix) for name in tables(conn, prefix)}


def snapshot(conn: sa.Connection, prefix: str) -> dict[str, Any]:
    """The schema of ``prefix`` with the prefix replaced by ``{p}``, comparable across prefixes.

    Per table: persistence (``p`` logged, ``u`` unlogged), storage options, columns (type, not null,
    default), indexes (full definition, partial predicates included), constraints and
    triggers; plus the prefix's functions under ``"(functions)"``. The version table is
    left out; its contents are checked on their own.
    """
    rows = conn.execute(_TABLES, {"prefix": prefix}).all()
    result: dict[str, Any] = {}
    for name, persistence, options in sorted(rows):
        if name == f"{prefix}alembic_version":
            continue
        params = {"table": name}
        result[name] = {
            "persistence": persistence,
            "options": tuple(sorted(options)),
            "columns": {r[0]: tuple(r[1:]) for r in conn.execute(_COLUMNS, params)},
            "indexes": {n: d for n, d in conn.execute(_INDEXES, params)},
            "constraints": {n: d for n, d in conn.execute(_CONSTRAINTS, params)},
            "triggers": {n: d for n, d in conn.execute(_TRIGGERS, params)},
        }
    result["(functions)"] = functions(conn, prefix)
    return _without_prefix(result, prefix)


def _without_prefix(value: Any, prefix: str) -> Any:
    if isinstance(value, str):
        return value.replace(prefix, "{p}")
    if isinstance(value, dict):
        return {_without_prefix(k, prefix): _without_prefix(v, prefix) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_without_prefix(v, prefix) for v in value)
    return value


def version_rows(conn: sa.Connection, prefix: str) -> set[str] | None:
    """The rows of ``{prefix}alembic_version``, or None when the table does not exist."""
    table = f"{prefix}alembic_version"
    if conn.execute(sa.select(sa.func.to_regclass(table))).scalar() is None:
        return None
    return set(conn.execute(sa.text(f'SELECT version_num FROM "{table}"')).scalars())


def diff_against_models(
    conn: sa.Connection, prefix: str, only: set[str] | None = None
) -> list[Any]:
    """Alembic's ``compare_metadata`` between the models of ``prefix`` and its tables only.

    Reflection is limited to the prefix's own tables (other prefixes and other engineers'
    tables share the database) and skips its version table, which no model describes.
    ``only`` narrows both sides to those table stems (``{"jobs", "queues"}``).
    """

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        if type_ != "table":
            return True
        if not name or not name.startswith(prefix) or name == f"{prefix}alembic_version":
            return False
        return only is None or name.removeprefix(prefix) in only

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, other: Any) -> bool:
        return include_name(name, type_, None)

    context = MigrationContext.configure(
        conn,
        opts={
            "include_name": include_name,
            "include_object": include_object,
            "compare_type": True,
            "compare_server_default": True,
        },
    )
    return compare_metadata(context, full_metadata(prefix))


def drop_prefix(conn: sa.Connection, prefix: str) -> None:
    """Drop every table and function of ``prefix`` whatever state it is in (test cleanup)."""
    for name in tables(conn, prefix):
        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    for signature in functions(conn, prefix):
        conn.execute(sa.text(f"DROP FUNCTION IF EXISTS {signature} CASCADE"))
