"""The rate-limit window counter: on the database's clock, and never moved backwards."""

from __future__ import annotations

import sqlalchemy as sa

from chancy import Chancy
from chancy.db.statements import queues as queues_sql


async def test_the_window_is_the_claims_own_now(chancy: Chancy) -> None:
    """The window a claim is counted in is the one its ``started_at`` (``now()``) falls in."""
    async with chancy.engine.begin() as conn:
        used = (await conn.execute(queues_sql.build_take_window(chancy.models, "q", 7))).scalar()
        now = (await conn.execute(sa.text("SELECT extract(epoch FROM now())"))).scalar_one()
        t = chancy.models.QueueRateLimit.__table__
        start = (await conn.execute(sa.select(t.c.window_start))).scalar_one()
    assert used == 0
    assert start == int(now) - int(now) % 7


async def test_a_late_claim_counts_against_the_newer_window(chancy: Chancy) -> None:
    """A transaction that waited on the counter's lock while another opened a newer
    window must neither reset that window's count nor move it back."""
    t = chancy.models.QueueRateLimit.__table__
    async with chancy.engine.begin() as conn:
        future = sa.cast(sa.func.extract("epoch", sa.func.now()), sa.BigInteger) + 3600
        await conn.execute(sa.insert(t).values(queue="q", window_start=future, count=4))
    async with chancy.engine.begin() as conn:
        used = (await conn.execute(queues_sql.build_take_window(chancy.models, "q", 60))).scalar()
        row = (await conn.execute(sa.select(t.c.window_start, t.c.count))).one()
    assert used == 4
    assert row.count == 4
    async with chancy.engine.begin() as conn:
        epoch = (await conn.execute(sa.text("SELECT extract(epoch FROM now())"))).scalar_one()
    assert row.window_start > epoch
