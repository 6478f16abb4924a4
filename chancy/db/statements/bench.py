"""Statements used only by ``chancy bench``: bulk row generation, resets and read-outs.

They live here because this package is the only place chancy builds SQL. None of them
is on a production path; they exist so the benchmark can load millions of rows in one
statement, reset a table between runs, and read timings that the database itself
recorded (``started_at``/``completed_at``), which no client-side clock can skew.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from chancy.db.models import Models

#: Server settings printed with every benchmark report.
REPORTED_SETTINGS = (
    "shared_buffers",
    "synchronous_commit",
    "fsync",
    "max_connections",
    "work_mem",
    "wal_level",
    "autovacuum",
)


def build_server_info() -> sa.Select[Any]:
    """``version()`` plus each of :data:`REPORTED_SETTINGS`, as one row."""
    return sa.select(
        sa.func.version().label("version"),
        *(sa.func.current_setting(name).label(name) for name in REPORTED_SETTINGS),
    )


def build_fill_jobs(
    models: Models,
    *,
    count: int,
    queue: str,
    state: str,
    func: str = "chancy.bench.jobs.noop",
) -> sa.Insert:
    """Insert ``count`` jobs in ``state`` with one ``INSERT ... SELECT generate_series``.

    Finished rows get start/completion times spread over the past so they look like a
    real history; pending rows are due now. Ids are time ordered as a push makes them
    (:func:`_time_ordered_id`), so the rows a claim updates sit at the end of the primary
    key, as in a real table. Random UUIDs put each claimed row's new primary-key entry on
    a random leaf of a 5,000,000-row index: a claim of 100 then read 60-80 pages from
    outside the buffer cache and wrote ~60 full-page images, ~8x the WAL of a real claim.
    """
    t = models.Job.__table__
    n = sa.func.generate_series(1, count).table_valued("n").render_derived(name="g")
    finished = state in ("succeeded", "failed")
    past = sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, n.c.n)
    values: dict[str, Any] = {
        "id": _time_ordered_id(past if finished else sa.func.now(), n.c.n),
        "queue": sa.literal(queue),
        "func": sa.literal(func),
        "state": sa.literal(state),
        "attempts": sa.literal(1 if finished else 0),
        "max_attempts": sa.literal(1),
        "priority": sa.literal(0),
        "created_at": past if finished else sa.func.now(),
        "scheduled_at": past if finished else sa.func.now(),
        "started_at": past if finished else sa.null(),
        "completed_at": past if finished else sa.null(),
    }
    select = sa.select(*(expr.label(name) for name, expr in values.items())).select_from(n)
    return pg.insert(t).from_select(list(values), select)


def _time_ordered_id(at: sa.ColumnElement[Any], n: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """:func:`chancy.utils.chancy_uuid`'s layout in SQL: 100 ns ticks since the epoch
    (plus ``n``, unique within one statement), the version and variant nibbles, and
    random bits."""
    ticks = (sa.cast(sa.func.extract("epoch", at) * 10_000_000, sa.BigInteger) + n).self_group()
    hex_text = sa.func.concat(
        sa.func.lpad(sa.func.to_hex(ticks.op(">>")(sa.literal(12, sa.Integer))), 12, "0"),
        "7",
        sa.func.lpad(sa.func.to_hex(ticks.op("&")(4095)), 3, "0"),
        "8",
        sa.func.substr(sa.func.md5(sa.cast(sa.func.random(), sa.Text)), 1, 15),
    )
    return sa.cast(hex_text, pg.UUID(as_uuid=True))


def build_truncate_jobs(models: Models) -> sa.TextClause:
    """Empty the jobs table between runs, as River's bench does."""
    return sa.text(f'TRUNCATE TABLE "{models.Job.__table__.name}"')


def build_vacuum_analyze(models: Models) -> sa.TextClause:
    """Refresh statistics and the visibility map; run it outside a transaction."""
    return sa.text(f'VACUUM ANALYZE "{models.Job.__table__.name}"')


def build_queue_summary(models: Models, queue: str) -> sa.Select[Any]:
    """Per-queue totals and the database's own first-claim and last-completion times."""
    t = models.Job.__table__
    return sa.select(
        sa.func.count().label("total"),
        sa.func.count().filter(t.c.state == "succeeded").label("succeeded"),
        sa.func.min(t.c.started_at).label("first_started"),
        sa.func.max(t.c.completed_at).label("last_completed"),
    ).where(t.c.queue == queue)


def build_table_size(models: Models) -> sa.Select[Any]:
    """Total bytes of the jobs table with its indexes and TOAST."""
    return sa.select(sa.func.pg_total_relation_size(models.Job.__table__.name))
