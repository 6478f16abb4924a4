"""Metrics statements: the merged bucket upsert, windowed reads, retention and collectors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from chancy.db.models import Models
from chancy.db.statements._sql import TEXTS, TIMES, state_in
from chancy.plugins.metrics.models import MetricsModels


class _CastArray(sa.types.TypeDecorator[list[Any]]):
    """An array parameter whose elements are cast to one Python type before binding.

    psycopg refuses a list mixing ``int`` and ``float`` ("cannot dump lists of mixed
    types"), and a flush naturally mixes them: an int gauge (queue depth, table size)
    beside a float histogram (run time). Casting every element here, in the statement
    builder, makes the bound list uniform whatever the callers recorded.
    """

    impl = pg.ARRAY(sa.Double)
    cache_ok = True

    def __init__(self, element: sa.types.TypeEngine[Any], cast: type) -> None:
        super().__init__()
        self.impl = pg.ARRAY(element)
        self.cast = cast

    def process_bind_param(self, value: list[Any] | None, dialect: Any) -> list[Any] | None:
        if value is None:
            return None
        cast = self.cast
        return [None if v is None else cast(v) for v in value]


FLOATS = _CastArray(sa.Double(), float)
BIGINTS = _CastArray(sa.BigInteger(), int)

#: (column, bind parameter, array type) of one flushed bucket row.
_COLUMNS = (
    ("key", "m_keys", TEXTS),
    ("resolution", "m_resolutions", TEXTS),
    ("bucket", "m_buckets", TIMES),
    ("metric_type", "m_types", TEXTS),
    ("count", "m_counts", BIGINTS),
    ("total", "m_totals", FLOATS),
    ("minimum", "m_minimums", FLOATS),
    ("maximum", "m_maximums", FLOATS),
    ("last", "m_lasts", FLOATS),
)
PARAMS = tuple(param for _, param, _ in _COLUMNS)


def build_record(mm: MetricsModels) -> sa.Insert:
    """Merge a flush's bucket rows into the table: one statement, whatever the row count.

    Counts and totals add up, minimum and maximum widen, and a gauge's ``last`` takes the
    newest value, so any number of workers can write the same bucket. Rows are inserted in
    primary-key order so two concurrent flushes lock shared rows in the same order and
    cannot deadlock.
    """
    t = mm.Metric.__table__
    v = (
        sa.func.unnest(*(sa.bindparam(param, type_=array) for _, param, array in _COLUMNS))
        .table_valued(*(sa.column(col) for col, _, _ in _COLUMNS))
        .render_derived(name="v")
    )
    source = sa.select(*(v.c[col] for col, _, _ in _COLUMNS)).order_by(
        v.c.key.collate("C"), v.c.resolution, v.c.bucket
    )
    stmt = pg.insert(t).from_select([col for col, _, _ in _COLUMNS], source)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[t.c.key, t.c.resolution, t.c.bucket],
        set_={
            "metric_type": new.metric_type,
            "count": t.c.count + new.count,
            "total": t.c.total + new.total,
            "minimum": sa.func.least(t.c.minimum, new.minimum),
            "maximum": sa.func.greatest(t.c.maximum, new.maximum),
            "last": sa.func.coalesce(new["last"], t.c["last"]),
            "updated_at": sa.func.now(),
        },
    )


def _key_matches(column: sa.ColumnElement[str], key_prefix: str) -> sa.ColumnElement[bool]:
    """The key itself or a key below it, by whole ``:`` segments (``a:b`` is not ``a:bc``)."""
    return sa.or_(column == key_prefix, column.startswith(key_prefix + ":", autoescape=True))


def build_read(
    mm: MetricsModels,
    *,
    resolution: str,
    since: dt.datetime,
    key_prefix: str | None = None,
    keys: list[str] | None = None,
) -> sa.Select[Any]:
    """Buckets of one resolution newer than ``since``, per key, newest first."""
    t = mm.Metric.__table__
    stmt = sa.select(
        t.c.key, t.c.metric_type, t.c.bucket, t.c.count, t.c.total, t.c.minimum, t.c.maximum
    ).add_columns(t.c["last"])
    stmt = stmt.where(t.c.resolution == resolution, t.c.bucket >= since)
    if key_prefix:
        stmt = stmt.where(_key_matches(t.c.key, key_prefix))
    if keys is not None:
        stmt = stmt.where(t.c.key == sa.func.any(sa.bindparam("keys", keys, TEXTS)))
    return stmt.order_by(t.c.key, t.c.bucket.desc())


def build_list(mm: MetricsModels, key_prefix: str | None = None) -> sa.Select[Any]:
    """Every known key with its type (the newest type wins if a key changed type).

    Grouped rather than ``DISTINCT ON``, whose spelling differs between SQLAlchemy 2.0
    and 2.1.
    """
    t = mm.Metric.__table__
    newest_type = pg.array_agg(pg.aggregate_order_by(t.c.metric_type, t.c.updated_at.desc()))[1]
    stmt = sa.select(t.c.key, newest_type.label("metric_type")).group_by(t.c.key).order_by(t.c.key)
    if key_prefix:
        stmt = stmt.where(_key_matches(t.c.key, key_prefix))
    return stmt


def build_expire(mm: MetricsModels, cutoffs: dict[str, dt.datetime]) -> sa.Delete:
    """Delete buckets older than each resolution's cutoff (the bounded number of points)."""
    t = mm.Metric.__table__
    return sa.delete(t).where(
        sa.or_(
            *(
                sa.and_(t.c.resolution == resolution, t.c.bucket < cutoff)
                for resolution, cutoff in sorted(cutoffs.items())
            )
        )
    )


def build_queue_depths(models: Models, states: tuple[str, ...]) -> sa.Select[Any]:
    """Jobs per declared queue and state (``state`` is NULL for a queue with none)."""
    q = models.Queue.__table__
    j = models.Job.__table__
    joined = q.outerjoin(j, sa.and_(j.c.queue == q.c.name, state_in(j.c.state, states)))
    return (
        sa.select(q.c.name.label("queue"), j.c.state, sa.func.count(j.c.id).label("depth"))
        .select_from(joined)
        .group_by(q.c.name, j.c.state)
    )


def build_table_sizes(tables: list[str]) -> sa.Select[Any]:
    """Total, heap and index sizes in bytes of each table; NULL for a table that is missing."""
    names = sa.func.unnest(sa.bindparam("tables", tables, TEXTS)).table_valued("name")
    names = names.render_derived(name="n")
    rel = sa.func.to_regclass(names.c.name)
    return sa.select(
        names.c.name,
        sa.func.pg_total_relation_size(rel).label("total"),
        sa.func.pg_relation_size(rel).label("heap"),
        sa.func.pg_indexes_size(rel).label("indexes"),
    )
