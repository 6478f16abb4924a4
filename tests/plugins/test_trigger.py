"""Trigger: changes to a user's table push jobs, in the user's transaction.

A scratch table with an awkward name (spaces, quotes, a colon, mixed case) is created
per test, so every statement that names it must quote it correctly.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from chancy import Chancy, Job
from chancy.errors import ConfigurationError, MigrationsNeededError
from chancy.plugins.trigger import Trigger
from chancy.plugins.trigger import statements as trigger_sql
from chancy.plugins.trigger.models import build_trigger_models
from chancy.testing import isolated_chancy, pushed_jobs
from chancy.worker import Worker
from tests.db.helpers import Listener
from tests.helpers import update_jobs
from tests.plugins.branch_schema import CORE_STEMS, diff_with, table_stems
from tests.plugins.helpers import job, started


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quoted(name: str) -> str:
    """An identifier for the test's own SQL (text() needs its colons escaped)."""
    return identifier(name).replace(":", r"\:")


@pytest.fixture
async def app(dsn: str) -> AsyncIterator[Chancy]:
    async with isolated_chancy(dsn, plugins=[Trigger()], no_default_plugins=True) as chancy:
        yield chancy


@contextlib.asynccontextmanager
async def scratch_table(app: Chancy) -> AsyncIterator[str]:
    """A user table ``(id serial, name text)``, dropped (with its triggers) afterwards."""
    name = f'Orders "{secrets.token_hex(3)}": X'
    async with app.engine.begin() as conn:
        await conn.execute(
            sa.text(f"CREATE TABLE public.{quoted(name)} (id serial PRIMARY KEY, name text)")
        )
    try:
        yield name
    finally:
        async with app.engine.begin() as conn:
            await conn.execute(sa.text(f"DROP TABLE IF EXISTS public.{quoted(name)}"))


@pytest.fixture
async def table(app: Chancy) -> AsyncIterator[str]:
    async with scratch_table(app) as name:
        yield name


async def run(app: Chancy, *statements: str, **params: Any) -> None:
    """Run statements against the user's table in one transaction, as the user would."""
    async with app.engine.begin() as conn:
        for statement in statements:
            await conn.execute(sa.text(statement), params)


async def installed(app: Chancy, table: str) -> list[str]:
    """Names of the Postgres triggers on ``table``."""
    stmt = sa.text(
        "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
        "AND tgrelid = to_regclass(:t) ORDER BY tgname"
    )
    async with app.engine.connect() as conn:
        return list((await conn.execute(stmt, {"t": f"public.{identifier(table)}"})).scalars())


def operations(jobs: list[Any]) -> list[str]:
    return [j.meta["trigger"]["operation"] for j in jobs]


async def test_a_statement_trigger_pushes_one_job_per_statement(app: Chancy, table: str) -> None:
    template = job("ok", queue="sync", kwargs={"source": "orders"}, priority=5, max_attempts=3)
    trigger_id = await Trigger.register_trigger(
        app, table_name=table, operations=["INSERT", "UPDATE", "DELETE"], job_template=template
    )
    t = f"public.{quoted(table)}"
    listener = await Listener.open(app)
    try:
        await run(app, f"INSERT INTO {t} (name) VALUES ('a'), ('b'), ('c')")
        assert await listener.drain() == [{"t": "queue.pushed", "q": "sync"}]
    finally:
        await listener.close()
    await run(app, f"UPDATE {t} SET name = upper(name)")
    await run(app, f"DELETE FROM {t} WHERE name = 'A'")

    jobs = await pushed_jobs(app)
    assert operations(jobs) == ["INSERT", "UPDATE", "DELETE"]
    config = (await Trigger.get_triggers(app))[trigger_id]
    for queued in jobs:
        assert (queued.func, queued.queue, queued.kwargs) == (
            template.func,
            "sync",
            template.kwargs,
        )
        assert (queued.priority, queued.max_attempts, queued.unique_key) == (5, 3, None)
        assert queued.state == "pending"
        info = queued.meta["trigger"]
        assert info["id"] == str(trigger_id)
        assert (info["table_name"], info["schema_name"]) == (table, "public")
        assert (info["trigger_name"], info["level"]) == (config.trigger_name, "statement")


async def test_a_row_trigger_passes_row_values_and_the_operation(app: Chancy, table: str) -> None:
    await Trigger.register_trigger(
        app,
        table_name=table,
        operations=["INSERT", "DELETE"],
        job_template=job("ok", kwargs={"fixed": True}),
        level="row",
        row_kwargs={"order_id": "id", "label": "name"},
        operation_kwarg="op",
    )
    t = f"public.{quoted(table)}"
    await run(app, f"INSERT INTO {t} (name) VALUES ('a'), ('b')")
    await run(app, f"UPDATE {t} SET name = 'z'")  # not a watched operation
    await run(app, f"DELETE FROM {t} WHERE id = 1")
    assert [j.kwargs for j in await pushed_jobs(app)] == [
        {"fixed": True, "order_id": 1, "label": "a", "op": "INSERT"},
        {"fixed": True, "order_id": 2, "label": "b", "op": "INSERT"},
        # A deleted row is read as it was; the UPDATE had changed its name.
        {"fixed": True, "order_id": 1, "label": "z", "op": "DELETE"},
    ]


async def test_jobs_share_the_users_transaction(app: Chancy, table: str) -> None:
    await Trigger.register_trigger(
        app, table_name=table, operations=["INSERT"], job_template=job("ok")
    )
    with pytest.raises(RuntimeError):
        async with app.engine.begin() as conn:
            await conn.execute(sa.text(f"INSERT INTO public.{quoted(table)} (name) VALUES ('x')"))
            raise RuntimeError("the user's transaction fails")
    assert await pushed_jobs(app) == []


async def test_a_worker_runs_triggered_jobs_in_push_order(app: Chancy, table: str) -> None:
    await Trigger.register_trigger(
        app, table_name=table, operations=["INSERT"], job_template=job("ok")
    )
    before = await app.push(job("ok"))
    await run(app, f"INSERT INTO public.{quoted(table)} (name) VALUES ('x')")
    after = await app.push(job("ok"))
    # Time-ordered ids, like Python's: FIFO order holds across both ways of pushing.
    assert [j.reference for j in await pushed_jobs(app)] == [
        before,
        (await pushed_jobs(app))[1].reference,
        after,
    ]
    [triggered] = [j for j in await pushed_jobs(app) if "trigger" in j.meta]
    async with started(app):
        done = await app.wait_for_job(triggered.reference, interval=0.05, timeout=10)
    assert done is not None and done.state == "succeeded"


async def test_a_unique_key_turns_a_burst_into_one_job(app: Chancy, table: str) -> None:
    await Trigger.register_trigger(
        app, table_name=table, operations=["INSERT"], job_template=job("ok", unique_key="sync")
    )
    insert = f"INSERT INTO public.{quoted(table)} (name) VALUES ('x')"
    for _ in range(3):
        await run(app, insert)
    [first] = await pushed_jobs(app)
    await update_jobs(app, [first.reference], state="succeeded")
    await run(app, insert)
    assert len(await pushed_jobs(app, state="pending", unique_key="sync")) == 1
    assert len(await pushed_jobs(app)) == 2


async def test_disable_and_enable(app: Chancy, table: str) -> None:
    trigger_id = await Trigger.register_trigger(
        app, table_name=table, operations=["INSERT"], job_template=job("ok")
    )
    insert = f"INSERT INTO public.{quoted(table)} (name) VALUES (:name)"
    assert await Trigger.disable_trigger(app, trigger_id)
    assert not (await Trigger.get_triggers(app))[trigger_id].enabled
    await run(app, insert, name="while disabled")
    assert await pushed_jobs(app) == []

    assert await Trigger.enable_trigger(app, str(trigger_id))
    await run(app, insert, name="enabled")
    assert operations(await pushed_jobs(app)) == ["INSERT"]
    assert not await Trigger.enable_trigger(app, "00000000-0000-0000-0000-000000000000")


async def test_unregister_drops_the_trigger(app: Chancy, table: str) -> None:
    keep = await Trigger.register_trigger(
        app, table_name=table, operations=["DELETE"], job_template=job("ok")
    )
    drop = await Trigger.register_trigger(
        app,
        table_name=table,
        operations=["INSERT"],
        job_template=job("ok"),
        trigger_name="my trigger",
    )
    assert await installed(app, table) == sorted(
        ["my trigger", (await Trigger.get_triggers(app))[keep].trigger_name]
    )
    assert await Trigger.unregister_trigger(app, drop)
    assert not await Trigger.unregister_trigger(app, drop)
    assert set(await Trigger.get_triggers(app)) == {keep}
    assert await installed(app, table) == [(await Trigger.get_triggers(app))[keep].trigger_name]
    await run(app, f"INSERT INTO public.{quoted(table)} (name) VALUES ('x')")
    assert await pushed_jobs(app) == []


async def test_unregister_follows_a_renamed_table(app: Chancy, table: str) -> None:
    trigger_id = await Trigger.register_trigger(
        app, table_name=table, operations=["INSERT"], job_template=job("ok")
    )
    renamed = table + " (old)"
    await run(app, f"ALTER TABLE public.{quoted(table)} RENAME TO {quoted(renamed)}")
    try:
        assert await Trigger.unregister_trigger(app, trigger_id)
        assert await installed(app, renamed) == []
    finally:
        await run(app, f"ALTER TABLE public.{quoted(renamed)} RENAME TO {quoted(table)}")


async def test_two_prefixes_do_not_interfere(dsn: str, app: Chancy, table: str) -> None:
    async with isolated_chancy(dsn, plugins=[Trigger()], no_default_plugins=True) as other:
        mine = await Trigger.register_trigger(
            app, table_name=table, operations=["INSERT"], job_template=job("ok", queue="a")
        )
        theirs = await Trigger.register_trigger(
            other, table_name=table, operations=["INSERT"], job_template=job("ok", queue="b")
        )
        insert = f"INSERT INTO public.{quoted(table)} (name) VALUES ('x')"
        await run(app, insert)
        assert [j.queue for j in await pushed_jobs(app)] == ["a"]
        assert [j.queue for j in await pushed_jobs(other)] == ["b"]

        await Trigger.disable_trigger(app, mine)
        await run(app, insert)
        assert (len(await pushed_jobs(app)), len(await pushed_jobs(other))) == (1, 2)
        assert not await Trigger.unregister_trigger(app, theirs)  # not this prefix's

        await Trigger.unregister_trigger(other, theirs)
        await Trigger.enable_trigger(app, mine)
        await run(app, insert)
        assert (len(await pushed_jobs(app)), len(await pushed_jobs(other))) == (2, 2)
    # The other prefix's removal left this prefix's trigger working.
    await run(app, insert)
    assert len(await pushed_jobs(app)) == 3


async def test_bad_registrations_are_rejected_before_anything_is_written(
    app: Chancy, table: str
) -> None:
    ok = job("ok")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"table_name": "no such table", "operations": ["INSERT"]}, "No table"),
        ({"table_name": table, "operations": []}, "operations"),
        ({"table_name": table, "operations": ["MERGE"]}, "operations"),
        ({"table_name": table, "operations": ["TRUNCATE"], "level": "row"}, "TRUNCATE"),
        ({"table_name": table, "operations": ["INSERT"], "level": "each"}, "level"),
        (
            {"table_name": table, "operations": ["INSERT"], "row_kwargs": {"i": "id"}},
            "needs level='row'",
        ),
        (
            {
                "table_name": table,
                "operations": ["INSERT"],
                "level": "row",
                "row_kwargs": {"i": "nope"},
            },
            "does not have",
        ),
        ({"table_name": table, "operations": ["INSERT"], "trigger_name": "x" * 64}, "63"),
    ]
    for options, message in cases:
        with pytest.raises(ConfigurationError, match=message):
            await Trigger.register_trigger(app, job_template=ok, **options)
    with pytest.raises(ConfigurationError, match="dotted import path"):
        await Trigger.register_trigger(
            app, table_name=table, operations=["INSERT"], job_template=Job(func="nodots")
        )
    assert await Trigger.get_triggers(app) == {}
    assert await installed(app, table) == []


async def handler_exists(app: Chancy) -> bool:
    stmt = sa.select(sa.func.to_regprocedure(f"{app.prefix}trigger_handler()"))
    async with app.engine.connect() as conn:
        return (await conn.execute(stmt)).scalar() is not None


async def test_enabling_on_an_existing_database_and_removing_again(
    dsn: str, chancy: Chancy
) -> None:
    # ``chancy`` is migrated without plugins: core tables only.
    app = Chancy(dsn, prefix=chancy.prefix, plugins=[Trigger()], no_default_plugins=True)
    try:
        async with scratch_table(chancy) as table:
            assert not await app.is_up_to_date()
            with pytest.raises(MigrationsNeededError):
                await Worker(app, register_signal_handlers=False).start()
            await app.migrate()
            assert await app.is_up_to_date()
            assert await table_stems(app) == CORE_STEMS | {"triggers"}
            assert set(await app.current_revisions()) == {
                "trigger_0001",
                app.migrator.core_revisions()[-1],
            }
            assert await handler_exists(app)
            assert await diff_with(app, build_trigger_models) == []

            await Trigger.register_trigger(
                app, table_name=table, operations=["INSERT"], job_template=job("ok")
            )
            await Trigger.register_trigger(
                app, table_name=table, operations=["DELETE"], job_template=job("ok")
            )
            assert len(await installed(app, table)) == 2

            # Removing the plugin drops its triggers, its function and its table, only.
            await app.migrate_plugin("trigger", remove=True)
            assert await installed(app, table) == []
            assert not await handler_exists(app)
            assert await table_stems(app) == CORE_STEMS
            assert await chancy.is_up_to_date() and not await app.is_up_to_date()
            await run(app, f"INSERT INTO public.{quoted(table)} (name) VALUES ('x')")
            assert await pushed_jobs(app) == []

            # And it can come back.
            await app.migrate()
            assert await Trigger.get_triggers(app) == {}
            assert await app.is_up_to_date()
    finally:
        await app.__aexit__(None, None, None)


async def test_removing_the_prefix_removes_its_triggers(dsn: str, chancy: Chancy) -> None:
    async with scratch_table(chancy) as table:
        async with isolated_chancy(dsn, plugins=[Trigger()], no_default_plugins=True) as app:
            await Trigger.register_trigger(
                app, table_name=table, operations=["INSERT"], job_template=job("ok")
            )
            assert len(await installed(chancy, table)) == 1
        # isolated_chancy migrated the prefix down to nothing on the way out.
        assert await installed(chancy, table) == []
        await run(chancy, f"INSERT INTO public.{quoted(table)} (name) VALUES ('x')")


def test_trigger_ddl_quotes_every_name() -> None:
    ddl = trigger_sql.build_create_trigger(
        "app_",
        trigger_id=uuid.UUID(int=1),
        schema_name="My Schema",
        table_name='a"b:c',
        trigger_name="t; DROP TABLE x",
        operations=["INSERT", "UPDATE", "INSERT"],
        level="row",
    )
    assert str(ddl.compile(dialect=postgresql.dialect())) == (
        'CREATE TRIGGER "t; DROP TABLE x" AFTER INSERT OR UPDATE ON "My Schema"."a""b:c" '
        "FOR EACH ROW EXECUTE FUNCTION app_trigger_handler('00000000-0000-0000-0000-000000000001')"
    )
    with pytest.raises(ConfigurationError, match="NUL"):
        trigger_sql.build_drop_trigger("public", "t\x00", "x")
    with pytest.raises(ConfigurationError, match="operations"):
        trigger_sql.build_create_trigger(
            "app_",
            trigger_id=uuid.UUID(int=1),
            schema_name="public",
            table_name="t",
            trigger_name="x",
            operations=["INSERT); DROP TABLE t; --"],
            level="row",
        )
