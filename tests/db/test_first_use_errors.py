"""Errors a new user meets first say what to do: using the app before ``migrate()``, a
DSN naming a missing database, odd job references and queue names."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from chancy import Chancy, Job, Queue
from chancy.errors import ConfigurationError, MigrationsNeededError
from chancy.testing import isolated_chancy

FUNC = "tests.db.test_first_use_errors.work"


def work() -> None:
    pass


async def test_using_the_app_before_migrate_names_the_command(dsn: str) -> None:
    async with isolated_chancy(dsn, migrate=False, no_default_plugins=True) as app:
        calls = {
            "push": lambda: app.push(Job(func=FUNC)),
            "declare": lambda: app.declare(Queue("q")),
            "get_job": lambda: app.get_job(uuid.uuid4()),
            "get_queue": lambda: app.get_queue("q"),
            "cancel_job": lambda: app.cancel_job(uuid.uuid4()),
        }
        for name, call in calls.items():
            with pytest.raises(MigrationsNeededError) as caught:
                await call()
            message = str(caught.value)
            assert "migrate" in message and f"{app.prefix}" in message, name
            assert "does not exist" in message, name
        with pytest.raises(MigrationsNeededError, match="misc migrate"):
            app.sync_push(Job(func=FUNC))
        app.sync_engine.dispose()


async def test_other_missing_tables_are_left_alone(chancy: Chancy) -> None:
    async with chancy.engine.connect() as conn:
        with pytest.raises(sa.exc.ProgrammingError, match="not_a_chancy_table"):
            await conn.execute(sa.text("SELECT * FROM not_a_chancy_table"))


async def test_a_dsn_naming_a_missing_database_says_so(dsn: str) -> None:
    # Via the URL, so a socket DSN (the embedded fallback: "...@/postgres?host=/dir") works too.
    missing = sa.make_url(dsn).set(database="chancy_no_such_database").render_as_string(False)
    app = Chancy(missing, no_default_plugins=True)
    try:
        with pytest.raises(ConfigurationError, match="'chancy_no_such_database'.*does not exist"):
            await app.push(Job(func=FUNC))
        with pytest.raises(ConfigurationError, match="createdb chancy_no_such_database"):
            await app.migrate()
    finally:
        await app.__aexit__(None, None, None)


async def test_get_job_takes_a_reference_a_uuid_or_its_string(chancy: Chancy) -> None:
    ref = await chancy.push(Job(func=FUNC))
    for form in (ref, ref.identifier, str(ref.identifier), ref.identifier.hex):
        job = await chancy.get_job(form)
        assert job is not None and job.id == ref.identifier, form
    assert [j.id for j in await chancy.get_jobs([str(ref.identifier)])] == [ref.identifier]
    assert chancy.sync_get_job(str(ref.identifier)) is not None
    chancy.sync_engine.dispose()
    with pytest.raises(ConfigurationError, match="is not a job reference"):
        await chancy.get_job("not-a-uuid")
    with pytest.raises(ConfigurationError, match="is not a job reference"):
        await chancy.get_job(42)  # type: ignore[arg-type]


async def test_a_queue_name_with_a_nul_byte_is_refused_at_declare(chancy: Chancy) -> None:
    with pytest.raises(ConfigurationError, match="NUL byte"):
        await chancy.declare(Queue("bad\x00name"))
    assert await chancy.get_all_queues() == []
