"""Small expression helpers shared by the builders."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

UUIDS = pg.ARRAY(pg.UUID(as_uuid=True))
TEXTS = pg.ARRAY(sa.Text)
INTS = pg.ARRAY(sa.Integer)
TIMES = pg.ARRAY(sa.DateTime(timezone=True))


def state_in(column: sa.ColumnElement[str], states: Iterable[str]) -> sa.ColumnElement[bool]:
    """``column IN ('a', 'b')`` with literal values.

    Literals (not bind parameters) let Postgres match the partial indexes, whose
    predicates are written the same way, even under a generic prepared plan.
    """
    return column.in_([sa.literal_column(f"'{s}'") for s in states])


def seconds(value: float) -> sa.ColumnElement[object]:
    """An interval of ``value`` seconds, fractions kept.

    Always bound as a float: ``make_interval``'s seconds are double precision, and the
    SQL text (so the cached statement) stays the same whether callers pass 2 or 0.5.
    """
    return sa.func.make_interval(0, 0, 0, 0, 0, 0, sa.literal(float(value), sa.Float))
