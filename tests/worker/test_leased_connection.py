"""The worker's hot statements check connections out with driver.leased_connection: a
healthy one goes back to the pool, a broken one is discarded."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from chancy import Chancy
from chancy.app.driver import leased_connection


async def test_a_connection_broken_while_leased_is_not_pooled(
    chancy: Chancy, caplog: pytest.LogCaptureFixture
) -> None:
    engine = chancy.make_worker_engine()
    try:
        async with leased_connection(engine) as conn:
            healthy = conn.info.backend_pid
        async with leased_connection(engine) as conn:
            assert conn.info.backend_pid == healthy  # pooled and reused
        with pytest.raises(psycopg.OperationalError):
            async with leased_connection(engine) as conn:
                async with chancy.engine.begin() as other:
                    kill = sa.text("SELECT pg_terminate_backend(:pid)")
                    await other.execute(kill, {"pid": healthy})
                await conn.execute("SELECT 1")
        async with leased_connection(engine) as conn:
            assert conn.info.backend_pid != healthy
            assert await (await conn.execute("SELECT 1")).fetchone() == (1,)
        # Discarded as broken, not found out by a failing reset (which logs an error).
        assert not [r for r in caplog.records if r.name.startswith("sqlalchemy.pool")]
    finally:
        await engine.dispose()
